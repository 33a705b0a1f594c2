#!/usr/bin/env bash
# backprop-grader on Gradescope: Gradescope runs this once, as root, when it
# builds the autograder image (Ubuntu), with the zip unpacked in
# /autograder/source. AUTOGRADER_ROOT moves /autograder elsewhere.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
STUDENT="@STUDENT_USER@"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap passwd

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "backprop-grader needs Python 3.10 or newer: choose Gradescope's Ubuntu 22.04 image or a newer one" >&2
    exit 1
fi

# The user the student's code runs as when the container refuses namespaces:
# no home, no login shell, no password, in no group but its own.
if ! id -u "$STUDENT" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$STUDENT"
fi

# The grader and what it needs (numpy, scipy, pytest, jinja2, ...), in a
# virtual environment that every user may read.
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --no-cache-dir --upgrade pip
"$ROOT/venv/bin/pip" install --no-cache-dir "$SOURCE/@WHEEL@"
"$ROOT/venv/bin/python" -c "import grader, numpy, scipy, pytest, jinja2"
chmod -R a+rX "$ROOT/venv"

# The course (reference solutions, hidden tests) is for root only.
chown -R root:root "$SOURCE"
chmod -R go-rwx "$SOURCE"
