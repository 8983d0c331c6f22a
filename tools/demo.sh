#!/bin/sh
# make demo. Until the province demo exists (sync, consolidation and the web
# interface are later issues) this walks one commune office through a
# reporting cycle with the real binaries and prints what the full demo will do.
set -eu
O=${1:?build dir}
N="$O/tonghop-node"
D=$(mktemp -d /tmp/tonghop-demo.XXXXXX)
trap 'rm -rf "$D"' EXIT INT TERM
say() { printf '\n### %s\n' "$*"; }

say "Khởi tạo văn phòng Phường Tân Ninh (mã 25459, Tây Ninh, mô hình 2 cấp)"
"$N" init --dir "$D/xa" --unit 25459
say "Các biểu mẫu có sẵn"
"$N" forms --dir "$D/xa"
say "Lưu bản nháp"
"$N" submit --dir "$D/xa" --form dvcq-nam --period 2026 --draft TT01=12 TT02=1.500
say "Nộp khi số liệu sai quy tắc: bị từ chối, không lưu gì"
"$N" submit --dir "$D/xa" --form dvcq-nam --period 2026 DVK01=3 DVK02=5 || true
say "Nộp đầy đủ"
"$N" submit --dir "$D/xa" --form dvcq-nam --period 2026 --author "Cán bộ văn phòng" \
    TT03=4 TT04=20 DT01=2 DT02=85 LD01=có DVK01=5 DVK02=3 KT01=1 KT02=2 \
    CCHC01=1.200 CCHC02=1.150 CCHC04=35 TCD01=40 TCD02=18 TCD03=17 TCD05=2 \
    GS01=3 GS02=12 GS03=10 DC01=có KTR01=1 KTR02=0 DG01=tot \
    "ND01=Đối thoại định kỳ với Nhân dân" "ND02=Còn chậm" "ND03=Tăng kinh phí"
say "Sửa số liệu (chỉ nêu chỉ tiêu thay đổi)"
"$N" submit --dir "$D/xa" --form dvcq-nam --period 2026 TT01=15 --note "bổ sung 3 buổi"
say "Báo cáo hiện hành"
"$N" show --dir "$D/xa" --form dvcq-nam --period 2026
say "Trạng thái"
"$N" status --dir "$D/xa"
cat <<'TXT'

### Bản trình diễn đầy đủ (đang xây dựng)
The full demo will start the province of Tây Ninh on this machine — 9
district hubs and 94 commune nodes of the 2024 tree (or, with TREE=2025, 96
communes straight to the province) — each its own process and LMDB store on
127.0.0.1, play the clerks and the unreliable lines, and end with the
province's completeness summary, the consolidated XLSX/HTML report and the
dashboard URL. It needs the sync daemon, consolidation and the web interface.
TXT
