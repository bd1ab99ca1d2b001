# Sourced on a machine without our Debian -dev packages and without a package
# registry (the device): unpacks the .debs carried in .devlibs/ (fetched here
# with `apt-get download`, see the list below) into a private root, never
# into /, and points pkg-config, the compiler and the loader at it.
#   fetch, on a Debian machine:  mkdir -p .devlibs && (cd .devlibs && apt-get download \
#     libjansson-dev libjansson4 libzstd-dev libzstd1 zstd libbrotli-dev libbrotli1 libxxhash-dev \
#     libxxhash0 liblzma-dev liblzma5 libsodium-dev libsodium23 pkgconf pkgconf-bin libpkgconf3 pkg-config \
#     libhtscodecs-dev libhtscodecs2)   # htscodecs: the bench peer (find it with -DHTSCODECS_LIBRARY=...)
#   use, there:  source scripts/device-env.sh && cmake -S . -B build && cmake --build build -j16
root=${WQC_DEVROOT:-/tmp/wqc-devroot}
mkdir -p "$root"
for deb in "$(dirname "${BASH_SOURCE[0]}")"/../.devlibs/*.deb; do dpkg -x "$deb" "$root"; done
export PATH=$root/usr/bin:$PATH
export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_LIBDIR=$root/usr/lib/x86_64-linux-gnu/pkgconfig:$root/usr/share/pkgconfig
export LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu
