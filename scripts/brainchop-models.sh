#!/usr/bin/env bash
# Copies brainchop's pretrained MeshNets (public/models/*, MIT licence) and its sample T1 scan
# (public/t1_crop.nii.gz) into an ignored folder, where the brainchop bench section and
# `voxgpu segment --model` find them. voxgpu does not ship these files: download brainchop yourself
# (git clone https://github.com/neuroneural/brainchop) and point this script at the checkout.
#   scripts/brainchop-models.sh <brainchop checkout, or its bare git dir> [dest (default .models)]
set -euo pipefail
src=${1:?usage: scripts/brainchop-models.sh <brainchop checkout or git dir> [dest]}
dest=${2:-.models}
mkdir -p "$dest"
if [ -d "$src/public/models" ]; then
  cp -r "$src"/public/models/. "$dest"/
  cp "$src"/public/t1_crop.nii.gz "$dest"/
  cp "$src"/LICENSE "$dest"/LICENSE.brainchop 2>/dev/null || true
else
  # A bare repository (or a .git dir): read the files from its HEAD without a work tree.
  git --git-dir="$src" archive HEAD public/models public/t1_crop.nii.gz LICENSE | tar -x -C "$dest"
  cp -r "$dest"/public/models/. "$dest"/
  mv "$dest"/public/t1_crop.nii.gz "$dest"/
  rm -r "$dest"/public
  [ -f "$dest"/LICENSE ] && mv "$dest"/LICENSE "$dest"/LICENSE.brainchop
fi
echo "brainchop's models in $dest: $(cd "$dest" && ls -d */ | tr -d / | tr '\n' ' ')"
