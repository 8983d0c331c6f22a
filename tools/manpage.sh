#!/bin/sh
# Writes the manual page (roff, section 1) of tonghop-node or tonghop-hub on
# stdout, made from the program's own --help texts: the command list of
# `PROG --help`, then `PROG <command> --help` for each command, verbatim.
# Only the description, files, environment and see-also parts are written
# here. Used by make deb (tools/deb.sh).
#
#   tools/manpage.sh BIN VERSION DATE > tonghop-node.1
#     BIN      the built program (its name says which page: tonghop-node or -hub)
#     VERSION  shown in the footer (e.g. 0.1)
#     DATE     the page's date, YYYY-MM-DD (that of debian/changelog: reproducible)
set -eu
BIN=${1:?usage: manpage.sh BIN VERSION DATE}
VERSION=${2:?version}
DATE=${3:?date}
PROG=$(basename "$BIN")
LC_ALL=C.UTF-8
export LC_ALL

# roff-safe verbatim text: backslashes printed as such, ASCII hyphen-minus
# kept (options are copied from the page), no line read as a request
esc() {
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

help=$("$BIN" --help)
cmds=$(printf '%s\n' "$help" | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "manpage.sh: no command list in '$PROG --help'" >&2; exit 1; }
exit_line=$(printf '%s\n' "$help" | sed -n 's/^Exit status: //p')

case $PROG in
tonghop-node)
    what="daemon and command line of a reporting office (commune, department)"
    other=tonghop-hub
    desc='.B tonghop\-node
is the program of an office that reports and has no child offices: a
commune (x\[u00E3], ph\[u01B0]\[u1EDD]ng, \[u0111]\[u1EB7]c khu) or a
provincial department.
Its reports are entered with
.BR submit ,
signed with the office'"'"'s Ed25519 key and kept in the office'"'"'s data
directory (an LMDB store);
.B run
is the daemon that sends them to the parent office
.RB ( tonghop\-hub )
whenever the link is up, and serves the web interface for the clerk.
.PP
Every command works on one data directory, given with
.BR \-\-dir ;
the daemon and the commands may use it at the same time.
Run each command as the user that owns the directory (for the packaged
service:
.BR "sudo \-u tonghop" ).
Messages for the clerk are Vietnamese, on standard output; log lines are
English, on standard error.'
    ;;
tonghop-hub)
    what="daemon and command line of a consolidating office (district, province)"
    other=tonghop-node
    desc='.B tonghop\-hub
is the program of an office with child offices: a district (huy\[u1EC7]n,
2024 tree: children and a parent) or a province (t\[u1EC9]nh, the root).
.B run
is the daemon that receives the signed reports of the enrolled children,
checks and keeps every revision, consolidates them, sends them on to its own
parent if it has one, and serves the web interface (completeness,
consolidated figures, returns for correction, exports).
The other commands read and administer the same data directory: enrolling
children, approvals and returns, unit lists, rollups, completeness and
exports.
.PP
Every command works on one data directory, given with
.BR \-\-dir ;
the daemon and the commands may use it at the same time.
Run each command as the user that owns the directory (for the packaged
service:
.BR "sudo \-u tonghop" ).
Messages for the officers are Vietnamese, on standard output; log lines are
English, on standard error.'
    ;;
*)
    echo "manpage.sh: unknown program '$PROG'" >&2; exit 1 ;;
esac
NAME_UP=$(printf '%s' "$PROG" | tr a-z A-Z | esc)

cat <<EOF
.\\" Made by tools/manpage.sh from the --help texts of $PROG $VERSION.
.TH $NAME_UP 1 "$DATE" "tonghop $VERSION" "tonghop manual"
.SH NAME
$(printf '%s' "$PROG" | esc) \\- $(printf '%s' "$what" | esc)
.SH SYNOPSIS
.B $(printf '%s' "$PROG" | esc)
.I command
.RI [ options ]
.br
.B $(printf '%s' "$PROG" | esc)
.RI [ command ]
.B \\-\\-help
.SH DESCRIPTION
$desc
.SH COMMANDS
The text of each command is its
.B \\-\\-help
output.
EOF
for c in $cmds; do
    printf '.SS %s\n.nf\n' "$c"
    "$BIN" "$c" --help | esc
    printf '.fi\n'
done
cat <<EOF
.SH EXIT STATUS
$(printf '%s' "$exit_line" | esc)
.SH ENVIRONMENT
.TP
.B TONGHOP_LOG
.BR error ", " warn ", " info " or " debug :
the log level of one command or daemon; it wins over
.B [log] level
of
.IR tonghop.ini ,
also after a reload (SIGHUP).
.SH FILES
.TP
.I /var/lib/tonghop
the data directory of the packaged service (owned by the system user
.BR tonghop ,
mode 0750)
.TP
.IB D /tonghop.ini
the office's configuration, commented
.TP
.IB D /identity.key
the office's Ed25519 secret key, mode 0600
.TP
.IB D /store/
the LMDB store: reports, revisions, the outgoing log, enrolled children
.TP
.I /usr/lib/systemd/system/$(printf '%s' "$PROG" | esc).service
the systemd unit: runs
.B $(printf '%s' "$PROG" | esc) run \\-\\-dir /var/lib/tonghop
as user
.B tonghop
.TP
.I /usr/share/doc/tonghop/examples/
example configurations of a commune, a district and a province
.TP
.I /usr/share/tonghop/
the built-in forms and the official unit lists, for reading
(they are compiled into the program)
.SH SEE ALSO
.ad l
.BR $(printf '%s' "$other" | esc) (1),
.BR systemctl (1),
.BR journalctl (1);
.I /usr/share/doc/tonghop/operations.md.gz
(installing, keys and enrollment, backup, upgrade, errors and what to do)
EOF
