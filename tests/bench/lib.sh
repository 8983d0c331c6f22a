# Shared helpers of the benchmark scripts (POSIX sh). Source it after
# setting O (the build directory) and NAME (for the temporary directory).
# Every process a script starts goes in PIDS and is stopped, by pid, on any
# exit; the temporary directory T goes with them.
HUB=$O/tonghop-hub
NODE=$O/tonghop-node
T=$(mktemp -d "/tmp/tonghop-bench-$NAME.XXXXXX")
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_file F: until F exists and is not empty (10 s at most)
wait_file() { i=0; while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; [ -s "$1" ]; }

# web0 DIR: the office's web interface on a port the kernel picks
web0() { sed -i 's/^listen = .*/listen = 127.0.0.1:0/' "$1/tonghop.ini"; }

# national_units FILE [YEAR]: the official 2024 (or 2025) list with a
# national root VN above the provinces (not in the official lists)
national_units() {
    {
        echo "code,name,level,parent_code"
        echo "VN,Việt Nam,country,"
        tail -n +2 "config/units/vn-${2:-2024}.csv" | awk -F, 'BEGIN { OFS = "," } $3 == "province" { $4 = "VN" } { print }'
    } >"$1"
}
