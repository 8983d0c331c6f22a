#!/bin/sh
# The Debian package (make deb):
#   1. it builds (or DEB=path.deb is taken as it is);
#   2. its contents (dpkg-deb -c): the programs (stripped, hardened), the
#      man pages, the systemd units with the package's paths, the docs,
#      examples, forms and unit lists, with their modes, all root's;
#   3. its fields (dpkg-deb -I): version from VERSION, architecture,
#      Depends only on packages Debian has (no -dev), the maintainer scripts;
#   4. lintian: any E: tag fails, every other tag is listed;
#   5. the installed programs (dpkg -x): --help, init of a node and a hub;
#   6. a real install in a throw-away root (a mount namespace whose / is an
#      overlay of this machine's /, upper layer on a tmpfs: nothing reaches
#      the real system): postinst makes the user tonghop and
#      /var/lib/tonghop (0750); the hub service is set up and started as its
#      unit says (ExecStart as User=, UMask), answers (status without --dir,
#      doctor), stops on SIGTERM with 0; reinstall; purge keeps an office's data and its user, and removes
#      both once the directory is empty.
# Without lintian/dpkg-dev (not installable: no network) it says so and
# skips; without the namespace (not root) part 6 is skipped.
#
#   sh tests/integration/test_deb.sh [build dir]   (DEB=build/tonghop_*.deb to reuse one)
set -u
O=${1:-build/asan}
. tests/integration/lib.sh

# a make run from inside make test must not inherit its variables (BUILD=asan)
unset MAKEFLAGS MFLAGS MAKELEVEL

skip_all() {
    echo "skipped: $1: the package checks did not run"
    th_summary
    exit 0
}

timeout -k 10 600 tools/deps.sh deb >"$TMP/deps.log" 2>&1 ||
    echo "note: tools/deps.sh deb failed: $(tail -n 1 "$TMP/deps.log")"
for t in dpkg-deb lintian dpkg-shlibdeps; do
    command -v "$t" >/dev/null 2>&1 || skip_all "$t is missing and could not be installed (apt-get)"
done

# ---- 1. build ---------------------------------------------------------------
if [ -n "${DEB:-}" ]; then
    expect_ok "the package to test exists ($DEB)" test -f "$DEB"
else
    expect_ok "make deb builds the package" timeout -k 10 600 make --no-print-directory deb
    DEB=$(printf '%s\n' "$LAST_OUT" | tail -n 1)
fi
[ -f "$DEB" ] || { bad "no package file ($DEB)"; th_summary; exit 1; }
VERSION=$(cat VERSION)
ARCH=$(dpkg --print-architecture)
case $(basename "$DEB") in
    "tonghop_${VERSION}-"*"_$ARCH.deb") ok "file name tonghop_<VERSION>-<rev>_<arch>.deb: $(basename "$DEB")" ;;
    *) bad "file name $(basename "$DEB"): not tonghop_${VERSION}-N_$ARCH.deb" ;;
esac

# ---- 2. contents ------------------------------------------------------------
LIST=$(dpkg-deb -c "$DEB")
# has MODE PATH: PATH is in the package with that mode, owned by root
has() {
    if printf '%s\n' "$LIST" | awk -v m="$1" -v p="./$2" '$1 == m && $2 == "root/root" && $6 == p { f = 1 } END { exit !f }'; then
        ok "contains $2 ($1 root/root)"
    else
        bad "missing or wrong mode/owner: $2 (want $1 root/root)" "$(printf '%s\n' "$LIST" | grep -F "$2")"
    fi
}
for b in tonghop-node tonghop-hub; do
    has -rwxr-xr-x "usr/bin/$b"
    has -rw-r--r-- "usr/share/man/man1/$b.1.gz"
    has -rw-r--r-- "usr/lib/systemd/system/$b.service"
done
for f in copyright changelog.Debian.gz operations.md.gz README.md.gz \
    examples/commune.ini examples/district.ini examples/province.ini; do
    has -rw-r--r-- "usr/share/doc/tonghop/$f"
done
for f in forms/dvcq-nam.ini forms/dvcq-6thang.ini units/vn-2024.csv units/vn-2025.csv units/SOURCE.md; do
    has -rw-r--r-- "usr/share/tonghop/$f"
done
expect_eq "every entry owned by root/root" "" "$(printf '%s\n' "$LIST" | awk '$2 != "root/root"')"
expect_eq "no directory other than 0755" "" "$(printf '%s\n' "$LIST" | awk '$1 ~ /^d/ && $1 != "drwxr-xr-x"')"
expect_eq "nothing under /etc, /var, /usr/local (no conffile; the data directory is made by postinst)" "" \
    "$(printf '%s\n' "$LIST" | awk '$6 ~ /^\.\/(etc|var|usr\/local)\//')"

X="$TMP/x"
expect_ok "dpkg-deb -x" dpkg-deb -x "$DEB" "$X"
for b in tonghop-node tonghop-hub; do
    f="$X/usr/bin/$b"
    expect_eq "$b is stripped (no .symtab, no .debug_*)" "" "$(readelf -S -W "$f" | grep -E '\.symtab|\.debug_')"
    dyn=$(readelf -d -W "$f")
    expect_in "$b: -z relro" "GNU_RELRO" "$(readelf -l -W "$f")"
    expect_in "$b: -z now" "BIND_NOW" "$dyn"
    expect_in "$b: PIE" "PIE" "$dyn"
    syms=$(readelf --dyn-syms -W "$f")
    expect_in "$b: -fstack-protector-strong" "__stack_chk_fail" "$syms"
    expect_in "$b: -D_FORTIFY_SOURCE=2 (fortified calls)" "_chk@" "$syms"
    # lintian runs man too; an explicit check names the page
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$X/usr/share/man/man1/$b.1.gz" 2>&1 >/dev/null)
    expect_eq "$b.1: man renders it without a warning" "" "$out"
    page=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$X/usr/share/man/man1/$b.1.gz" 2>/dev/null)
    expect_in "$b.1: has the commands, from --help" "usage: $b init --dir D --unit CODE" "$page"
    u="$X/usr/lib/systemd/system/$b.service"
    expect_in "$b.service: ExecStart of the package" "ExecStart=/usr/bin/$b run --dir /var/lib/tonghop" "$(cat "$u")"
    expect_in "$b.service: User=tonghop" "User=tonghop" "$(cat "$u")"
    expect_not_in "$b.service: no /usr/local left" "/usr/local" "$(cat "$u")"
done
expect_in "copyright is DEP-5" "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" \
    "$(cat "$X/usr/share/doc/tonghop/copyright")"
expect_in "copyright covers the unit lists (MIT/Expat)" "Files: config/units/vn-2024.csv config/units/vn-2025.csv" \
    "$(cat "$X/usr/share/doc/tonghop/copyright")"
expect_in "changelog.Debian.gz is at this version" "tonghop ($VERSION-" \
    "$(gzip -dc "$X/usr/share/doc/tonghop/changelog.Debian.gz" | head -n 1)"

# ---- 3. fields -----------------------------------------------------------------
INFO=$(dpkg-deb -I "$DEB")
field() { dpkg-deb -f "$DEB" "$1"; }
expect_eq "Package" "tonghop" "$(field Package)"
case $(field Version) in
    "$VERSION"-*) ok "Version $(field Version) from VERSION ($VERSION)" ;;
    *) bad "Version $(field Version) is not $VERSION-N" ;;
esac
expect_eq "Architecture" "$ARCH" "$(field Architecture)"
for f in Maintainer Installed-Size Section Priority Description; do
    if [ -n "$(field "$f")" ]; then ok "field $f"; else bad "field $f missing"; fi
done
DEPENDS=$(field Depends)
echo "       Depends: $DEPENDS"
for want in adduser libc6 libzmq5 libsodium23 liblmdb0 libmsgpackc2; do
    case ", $DEPENDS," in
        *", $want "*|*", $want,"*) ok "Depends on $want" ;;
        *) bad "Depends lacks $want" ;;
    esac
done
deps_bad=""
for p in $(printf '%s\n' "$DEPENDS" | tr ',|' '\n\n' | sed 's/(.*)//; s/:any//' | tr -d ' ' | grep .); do
    case $p in *-dev) deps_bad="$deps_bad $p(-dev)"; continue ;; esac
    apt-cache show "$p" >/dev/null 2>&1 || dpkg-query -W "$p" >/dev/null 2>&1 || deps_bad="$deps_bad $p"
done
expect_eq "every package of Depends exists in Debian (apt-cache show / dpkg-query), none is -dev" "" "$deps_bad"
expect_ok "dpkg-deb -e" dpkg-deb -e "$DEB" "$TMP/ctl"
for s in postinst prerm postrm; do
    expect_in "control archive has $s, executable" "*  $s" "$INFO"
    expect_ok "$s: sh -n" sh -n "$TMP/ctl/$s"
done
expect_in "postinst makes the system user tonghop" "adduser --system" "$(cat "$TMP/ctl/postinst")"

# ---- 4. lintian ----------------------------------------------------------------
lt=$(timeout -k 10 300 lintian -I --pedantic "$DEB" 2>&1); lrc=$?
echo "       lintian (exit $lrc):"
printf '%s\n' "$lt" | grep -E '^[EWIPX]: ' | sed 's/^/         /'
nerr=$(printf '%s\n' "$lt" | grep -c '^E: ')
nwarn=$(printf '%s\n' "$lt" | grep -c '^W: ')
echo "       lintian: $nerr error(s), $nwarn warning(s)"
expect_eq "lintian: no E: tag" 0 "$nerr"
case $lrc in 0|1) ;; *) bad "lintian itself failed (exit $lrc)" "$lt" ;; esac

# ---- 5. the packaged programs --------------------------------------------------
for b in tonghop-node tonghop-hub; do
    expect_ok "$b --help (packaged)" "$X/usr/bin/$b" --help
    expect_in "$b --help lists init" "init" "$LAST_OUT"
done
expect_ok "tonghop-node init (packaged) in a temporary directory" "$X/usr/bin/tonghop-node" init --dir "$TMP/n" --unit 25459
expect_eq "init prints the key last (40 Z85 characters)" 40 "$(printf '%s\n' "$LAST_OUT" | tail -n 1 | tr -d '\n' | wc -c)"
expect_ok "tonghop-node status (packaged)" "$X/usr/bin/tonghop-node" status --dir "$TMP/n"
expect_ok "tonghop-hub init (packaged) in a temporary directory" "$X/usr/bin/tonghop-hub" init --dir "$TMP/h" --unit 80 --bind "$ANY"
expect_ok "tonghop-hub status (packaged)" "$X/usr/bin/tonghop-hub" status --dir "$TMP/h"

# ---- 6. install in a throw-away root ---------------------------------------------
# Runs in the chroot: dpkg -i, the service as its unit says, purge. Facts go
# to /tmp/res (a directory of $TMP bound in), checked below.
cat >"$TMP/inside.sh" <<'EOF'
set -u
RES=/tmp/res
PKG=$1
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
# no man-db trigger over the whole machine's man pages
rm -f /var/lib/man-db/auto-update
r() { n=$1; shift; "$@" >"$RES/$n.out" 2>&1; echo $? >"$RES/$n.rc"; }
r install dpkg -i "$PKG"
getent passwd tonghop >"$RES/passwd"
getent group tonghop >"$RES/group"
stat -c '%a %U %G' /var/lib/tonghop >"$RES/datadir" 2>&1
dpkg-query -W -f='${Status}\n' tonghop >"$RES/status" 2>&1
U=/usr/lib/systemd/system/tonghop-hub.service
r verify systemd-analyze verify "$U"
# set up as the unit's header says: init as the user, then enable
r init runuser -u tonghop -- tonghop-hub init --dir /var/lib/tonghop --unit 80 --bind 'tcp://127.0.0.1:*'
runuser -u tonghop -- sed -i 's/^listen = .*/listen = 127.0.0.1:0/' /var/lib/tonghop/tonghop.ini
stat -c '%a %U %G %n' /var/lib/tonghop /var/lib/tonghop/identity.key /var/lib/tonghop/store/data.mdb >"$RES/files" 2>&1
r enable systemctl enable tonghop-hub
ls -l /etc/systemd/system/multi-user.target.wants/ >"$RES/wants" 2>&1
# start: what systemd runs (ExecStart, User=, Group=, UMask=), stop: KillSignal
cmd=$(sed -n 's/^ExecStart=//p' "$U")
user=$(sed -n 's/^User=//p' "$U")
group=$(sed -n 's/^Group=//p' "$U")
mask=$(sed -n 's/^UMask=//p' "$U")
echo "$cmd | $user:$group | $mask" >"$RES/unit"
# shellcheck disable=SC2086
(umask "$mask"; exec setpriv --reuid="$user" --regid="$group" --init-groups env TONGHOP_LOG=info $cmd) \
    >"$RES/run.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 200 ]; do
    if runuser -u tonghop -- tonghop-hub status --dir /var/lib/tonghop --json 2>/dev/null | grep -q '"collector"'; then
        echo up >"$RES/up"; break
    fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.1; i=$((i + 1))
done
runuser -u tonghop -- tonghop-hub status --dir /var/lib/tonghop >"$RES/hubstatus" 2>&1
# the service user's commands find /var/lib/tonghop without --dir; doctor
# finds nothing wrong with what the package and init made
r nodir runuser -u tonghop -- tonghop-hub status
r doctor runuser -u tonghop -- tonghop-hub doctor --dir /var/lib/tonghop
ps -o user= -p $pid >"$RES/runuser" 2>&1
kill -TERM $pid
wait $pid
echo $? >"$RES/run.rc"
r reinstall dpkg -i "$PKG"
r purge1 dpkg --purge tonghop
getent passwd tonghop >"$RES/passwd1"
[ -f /var/lib/tonghop/identity.key ] && echo kept >"$RES/data1"
rm -rf /var/lib/tonghop
r install2 dpkg -i "$PKG"
r purge2 dpkg --purge tonghop
getent passwd tonghop >"$RES/passwd2"
getent group tonghop >"$RES/group2"
[ -e /var/lib/tonghop ] && echo left >"$RES/data2"
[ -e /usr/bin/tonghop-hub ] && echo left >"$RES/bin2"
exit 0
EOF
cat >"$TMP/outside.sh" <<'EOF'
set -eu
OV=$1; PKG=$2; RESDIR=$3; INSIDE=$4
mount -t tmpfs -o size=1g,mode=0755 tmpfs "$OV"
mkdir "$OV/up" "$OV/wk" "$OV/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$OV/up,workdir=$OV/wk" "$OV/root"
R=$OV/root
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/tmp"
# an empty /run: no systemd of this machine to reach from the scripts
mount -t tmpfs tmpfs "$R/run"
mkdir "$R/tmp/res"
mount --bind "$RESDIR" "$R/tmp/res"
cp "$PKG" "$R/tmp/pkg.deb"
cp "$INSIDE" "$R/tmp/inside.sh"
echo entered >"$RESDIR/entered"
chroot "$R" /bin/sh /tmp/inside.sh /tmp/pkg.deb
EOF
mkdir -p "$TMP/ov" "$TMP/res"
if ! command -v unshare >/dev/null 2>&1; then
    echo "skip - throw-away root: no unshare here"
else
    timeout -k 10 300 unshare --mount --pid --fork --propagation private \
        sh "$TMP/outside.sh" "$TMP/ov" "$DEB" "$TMP/res" "$TMP/inside.sh" >"$TMP/root.log" 2>&1
    urc=$?
    if [ ! -f "$TMP/res/entered" ]; then
        echo "skip - throw-away root: cannot make a mount namespace with an overlay / here (needs root): $(tail -n 1 "$TMP/root.log")"
    else
        expect_eq "the throw-away root ran to its end" 0 "$urc"
        [ "$urc" -eq 0 ] || bad "throw-away root log" "$(cat "$TMP/root.log")"
        R=$TMP/res
        rd() { cat "$R/$1" 2>/dev/null; }
        expect_eq "dpkg -i: exit 0 (Depends satisfied by this machine's packages)" 0 "$(rd install.rc)"
        [ "$(rd install.rc)" = 0 ] || bad "dpkg -i output" "$(rd install.out)"
        expect_in "installed" "install ok installed" "$(rd status)"
        expect_in "postinst made the system user tonghop, home /var/lib/tonghop, no login" \
            ":/var/lib/tonghop:/usr/sbin/nologin" "$(rd passwd)"
        uid=$(rd passwd | cut -d: -f3)
        if [ -n "$uid" ] && [ "$uid" -lt 1000 ]; then ok "tonghop is a system user (uid $uid)"; else bad "uid '$uid' is not a system uid"; fi
        expect_in "postinst made the group tonghop" "tonghop:" "$(rd group)"
        expect_eq "/var/lib/tonghop: 0750 tonghop:tonghop" "750 tonghop tonghop" "$(rd datadir)"
        expect_eq "systemd-analyze verify tonghop-hub.service" 0 "$(rd verify.rc)"
        [ "$(rd verify.rc)" = 0 ] || bad "systemd-analyze output" "$(rd verify.out)"
        expect_eq "init as user tonghop in /var/lib/tonghop" 0 "$(rd init.rc)"
        [ "$(rd init.rc)" = 0 ] || bad "init output" "$(rd init.out)"
        expect_in "identity.key 600, the user's" "600 tonghop tonghop /var/lib/tonghop/identity.key" "$(rd files)"
        expect_in "store owned by the user" "tonghop tonghop /var/lib/tonghop/store/data.mdb" "$(rd files)"
        expect_eq "systemctl enable tonghop-hub" 0 "$(rd enable.rc)"
        expect_in "enabled: wanted by multi-user.target" "lib/systemd/system/tonghop-hub.service" "$(rd wants)"
        expect_eq "the unit's start: ExecStart, User/Group, UMask" \
            "/usr/bin/tonghop-hub run --dir /var/lib/tonghop | tonghop:tonghop | 0077" "$(rd unit)"
        expect_eq "the service came up (status shows the daemon's collector)" up "$(rd up)"
        [ "$(rd up)" = up ] || bad "daemon log" "$(rd run.log)"
        expect_eq "the daemon runs as tonghop" tonghop "$(rd runuser | tr -d ' ')"
        expect_eq "status as user tonghop without --dir (the service's directory)" 0 "$(rd nodir.rc)"
        [ "$(rd nodir.rc)" = 0 ] || bad "status output" "$(rd nodir.out)"
        expect_eq "doctor: no error on the packaged install" 0 "$(rd doctor.rc)"
        [ "$(rd doctor.rc)" = 0 ] || bad "doctor output" "$(rd doctor.out)"
        expect_eq "SIGTERM (KillSignal) stops it with 0" 0 "$(rd run.rc)"
        expect_eq "reinstall over an existing user and data: exit 0" 0 "$(rd reinstall.rc)"
        expect_eq "purge: exit 0" 0 "$(rd purge1.rc)"
        expect_in "purge with an office's data: says it keeps it" "still holds an office's data" "$(rd purge1.out)"
        expect_in "purge with data: the user stays" "tonghop:" "$(rd passwd1)"
        expect_eq "purge with data: identity.key stays" kept "$(rd data1)"
        expect_eq "install again, purge again (empty directory): exits 0" "0 0" "$(rd install2.rc) $(rd purge2.rc)"
        expect_eq "purge: the user is removed" "" "$(rd passwd2)"
        expect_eq "purge: the group is removed" "" "$(rd group2)"
        expect_eq "purge: the empty /var/lib/tonghop is removed" "" "$(rd data2)"
        expect_eq "purge: the programs are gone" "" "$(rd bin2)"
    fi
fi

th_summary
