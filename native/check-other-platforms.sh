#!/bin/sh
# Compiles the Windows and the "no pass-through" (macOS …) sources on Linux, with the same warnings-as-errors, to
# catch mistakes that only those builds would see (they cannot be built or run on the project's machines):
#   Windows: MinGW-w64 (Debian: apt-get install g++-mingw-w64-x86-64-posix); MSVC's /W4 may still find more.
#   other:   the host's g++ with src/other.cc instead of src/linux.cc.
# Run from anywhere: sh native/check-other-platforms.sh
set -eu
cd "$(dirname "$0")"
NAPI=$(cd .. && node -p "require('node-addon-api').include_dir")
NODE_INC=$(node -p "require('path').join(process.execPath, '..', '..', 'include', 'node')")
FLAGS="-std=c++17 -c -O2 -Wall -Wextra -Werror -Wformat=2 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DNODE_ADDON_API_DISABLE_DEPRECATED -I$NODE_INC -I../$NAPI"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for f in win addon; do
  x86_64-w64-mingw32-g++ $FLAGS -D_WIN32_WINNT=0x0601 -DUNICODE -D_UNICODE -o "$out/$f.o" "src/$f.cc"
done
echo "windows (mingw-w64): ok"
for f in other addon; do g++ $FLAGS -fPIC -o "$out/$f.o" "src/$f.cc"; done
echo "other platforms (src/other.cc): ok"
