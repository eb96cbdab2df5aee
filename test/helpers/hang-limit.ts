/**
 * How long a test, a hook, a child process or a browser wait may run before it counts as hung. It
 * catches hangs only: no test may depend on the host's speed, and a host several times slower than
 * the developers' 2-core llvmpipe one, or busy with other work, must still pass. So it is one limit
 * for everything, far above the slowest test's time on any host.
 */
export const hangLimitMs = 30 * 60_000;
