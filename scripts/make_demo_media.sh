#!/usr/bin/env bash
# Makes the demo organisation's course media (committed under src/learntrace/demo/media).
# Needs Debian's ffmpeg. The videos are tiny (64x36, 1 frame a second) but as long as the
# courses they stand for, so that watch time and coverage behave as with real lectures.
set -euo pipefail
cd "$(dirname "$0")/../src/learntrace/demo/media"

video() {  # name, seconds, hue of the test pattern
  ffmpeg -loglevel error -y -f lavfi -i "testsrc2=size=64x36:rate=1" -t "$2" \
    -vf "hue=h=$3" -c:v libvpx-vp9 -crf 63 -b:v 0 -g 9999 -deadline realtime -cpu-used 8 "$1.webm"
}

video management-communication 14400 0
video strategy-execution 14400 60
video strategic-management 3600 120
video strategic-management-part1 900 180
video hospital-management 7200 240
video ward-quality 7200 300
python3 - <<'PY'
# A one-page PDF written by hand: no PDF library is needed for a demo handbook.
lines = ["learntrace demo: Medical compliance handbook", "",
         "1. Informed consent must be documented before any procedure.",
         "2. Patient data is disclosed only to those who treat the patient.",
         "3. Adverse events are reported within 24 hours.",
         "4. Every department head reviews this handbook once a year."]
text = "BT /F1 12 Tf 50 780 Td 16 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
    "/Resources << /Font << /F1 5 0 R >> >> >>",
    f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]
out, offsets = b"%PDF-1.4\n", []
for number, body in enumerate(objects, start=1):
    offsets.append(len(out))
    out += f"{number} 0 obj\n{body}\nendobj\n".encode()
xref = len(out)
out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
open("compliance-handbook.pdf", "wb").write(out)
PY
ls -l
