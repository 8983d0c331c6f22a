#!/bin/sh
# Builds the Debian package tonghop_<version>_<arch>.deb from a staged tree
# with dpkg-deb (make deb; no debhelper). Run from the source tree's top,
# after the programs are built in OBJDIR (BUILD=deb: Debian's hardening
# flags).
#
#   tools/deb.sh OBJDIR OUTDIR      e.g. tools/deb.sh build/deb build
#
# The version is VERSION (upstream) and the top entry of debian/changelog
# (VERSION-REVISION): they must agree. Depends: the packages of the shared
# libraries the programs use (dpkg-shlibdeps; without dpkg-dev, dpkg -S over
# the libraries ldd finds), and adduser for the maintainer scripts.
# Prints the package's path last.
set -eu
OBJ=${1:?usage: deb.sh OBJDIR OUTDIR}
OUT=${2:?usage: deb.sh OBJDIR OUTDIR}
umask 022
LC_ALL=C.UTF-8
export LC_ALL

die() { echo "deb.sh: $*" >&2; exit 1; }

[ -f VERSION ] && [ -f debian/changelog ] || die "run from the top of the source tree"
for b in tonghop-node tonghop-hub; do
    [ -x "$OBJ/$b" ] || die "$OBJ/$b is not built (make BUILD=deb)"
done
UPSTREAM=$(cat VERSION)
DEBVER=$(sed -n '1s/^tonghop (\([^)]*\)).*/\1/p' debian/changelog)
[ -n "$DEBVER" ] || die "debian/changelog: the first line is not 'tonghop (VERSION-REVISION) ...'"
[ "${DEBVER%-*}" = "$UPSTREAM" ] ||
    die "debian/changelog is at $DEBVER, VERSION at $UPSTREAM: add a changelog entry for $UPSTREAM-1"
# the date of the changelog's top entry: the man pages' date and the files'
# times, so the same source gives the same package
CHDATE=$(sed -n 's/^ -- .*>  \(.*\)$/\1/p' debian/changelog | head -n 1)
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -d "$CHDATE" +%s)}
export SOURCE_DATE_EPOCH
MANDATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
ARCH=$(dpkg --print-architecture)

# dpkg-shlibdeps wants the tree at debian/<package> below a directory
# holding debian/control
WORK="$OUT/deb-pkg"
R="$WORK/debian/tonghop"
rm -rf "$WORK"
mkdir -p "$R/DEBIAN"

# ---- programs: stripped as dh_strip does --------------------------------
install -d "$R/usr/bin"
for b in tonghop-node tonghop-hub; do
    install -m 0755 "$OBJ/$b" "$R/usr/bin/$b"
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$R/usr/bin/$b"
done

# ---- manual pages, from the --help texts --------------------------------
install -d "$R/usr/share/man/man1"
for b in tonghop-node tonghop-hub; do
    tools/manpage.sh "$OBJ/$b" "$UPSTREAM" "$MANDATE" >"$WORK/$b.1"
    gzip -9n -c "$WORK/$b.1" >"$R/usr/share/man/man1/$b.1.gz"
done

# ---- systemd units: config/systemd/*.service with the package's paths ----
UNITDIR=usr/lib/systemd/system
install -d "$R/$UNITDIR"
for b in tonghop-node tonghop-hub; do
    sed -e 's|^# Install (as root, after `make install PREFIX=/usr/local`):$|# The package tonghop installs this unit without enabling it; it made the\
# user tonghop and /var/lib/tonghop. To run this office (as root):|' \
        -e '/^#   useradd /d' \
        -e '/^#   install -d -o tonghop /d' \
        -e '/^#   install -m 0644 config\/systemd\//d' \
        -e 's|^#   systemctl daemon-reload && systemctl enable |#   systemctl enable |' \
        -e '/^# Installed with another PREFIX/d' \
        -e 's|See docs/operations\.md\.|See /usr/share/doc/tonghop/operations.md.gz.|' \
        -e 's|/usr/local/bin/|/usr/bin/|g' \
        -e "s|^Documentation=file:/usr/local/share/doc/tonghop/operations.md\$|Documentation=man:$b(1) file:/usr/share/doc/tonghop/operations.md.gz|" \
        "config/systemd/$b.service" >"$R/$UNITDIR/$b.service"
    chmod 0644 "$R/$UNITDIR/$b.service"
    # what the package relies on; a change of the source unit that breaks
    # one of these must be seen here, not on an office's server
    u="$R/$UNITDIR/$b.service"
    grep -qx "ExecStart=/usr/bin/$b run --dir /var/lib/tonghop" "$u" || die "$b.service: ExecStart not adapted"
    grep -qx "User=tonghop" "$u" || die "$b.service: User=tonghop missing"
    grep -qx "ReadWritePaths=/var/lib/tonghop" "$u" || die "$b.service: ReadWritePaths missing"
    grep -q "^Documentation=man:$b(1) " "$u" || die "$b.service: Documentation not adapted"
    ! grep -n '/usr/local\|make install\|useradd' "$u" || die "$b.service: a make-install path or step is left"
done

# ---- shared data, as make install has it ----------------------------------
install -d "$R/usr/share/tonghop/forms" "$R/usr/share/tonghop/units"
install -m 0644 config/forms/*.ini "$R/usr/share/tonghop/forms/"
install -m 0644 config/units/* "$R/usr/share/tonghop/units/"

# ---- documentation: compressed above 4 KiB, as dh_compress does ----------
D="$R/usr/share/doc/tonghop"
install -d "$D/examples"
install -m 0644 README.md docs/*.md "$D/"
install -m 0644 config/examples/*.ini "$D/examples/"
for f in "$D"/*.md; do
    if [ "$(stat -c %s "$f")" -gt 4096 ]; then gzip -9n "$f"; fi
done
install -m 0644 debian/copyright "$D/copyright"
install -d "$R/usr/share/lintian/overrides"
install -m 0644 debian/lintian-overrides "$R/usr/share/lintian/overrides/tonghop"
gzip -9n -c debian/changelog >"$D/changelog.Debian.gz"
chmod 0644 "$D/changelog.Debian.gz"

# ---- control --------------------------------------------------------------
printf 'Source: tonghop\n\nPackage: tonghop\nArchitecture: any\n' >"$WORK/debian/control"
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
    libdeps=$(cd "$WORK" && dpkg-shlibdeps -O -e debian/tonghop/usr/bin/tonghop-node \
        -e debian/tonghop/usr/bin/tonghop-hub 2>shlibdeps.err | sed -n 's/^shlibs:Depends=//p')
    # (dpkg 1.21's dpkg-shlibdeps warns "binaries to analyze should already
    # be installed in their package's directory" for every tree: not ours)
    grep -v "binaries to analyze should already be installed" "$WORK/shlibdeps.err" >&2 || true
else
    # no dpkg-dev: the package (unversioned) of each library the programs
    # name (NEEDED), found where ldd says it is loaded from
    libdeps=$(for b in tonghop-node tonghop-hub; do
            needed=$(readelf -d "$R/usr/bin/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
            ldd "$R/usr/bin/$b" | awk -v n="$needed" 'BEGIN { split(n, a, "\n"); for (i in a) w[a[i]] = 1 }
                $2 == "=>" && ($1 in w) && $3 ~ /^\// { print $3 }'
        done | sort -u |
        while read -r lib; do
            dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
                echo "deb.sh: no package holds $lib" >&2
        done | sed 's/:.*//' | sort -u | paste -sd, - | sed 's/,/, /g')
fi
[ -n "$libdeps" ] || die "no library dependency found"
DEPENDS="adduser, $libdeps"
SIZE=$(du -sk --apparent-size --exclude=DEBIAN "$R" | cut -f1)
sed -e "s/@VERSION@/$DEBVER/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" \
    -e "s/@DEPENDS@/$DEPENDS/" debian/control.in >"$R/DEBIAN/control"
! grep -n '@[A-Z]*@' "$R/DEBIAN/control" || die "control: a field is left unfilled"
for s in postinst prerm postrm; do
    install -m 0755 "debian/$s" "$R/DEBIAN/$s"
done
(cd "$R" && find usr -type f | LC_ALL=C sort | xargs md5sum) >"$R/DEBIAN/md5sums"
chmod 0644 "$R/DEBIAN/control" "$R/DEBIAN/md5sums"

# every file and directory at the same time, the changelog's
find "$R" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

DEB="$OUT/tonghop_${DEBVER}_$ARCH.deb"
rm -f "$DEB"
dpkg-deb --root-owner-group -Zxz --build "$R" "$DEB" >/dev/null
echo "$DEB"
