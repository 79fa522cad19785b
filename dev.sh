#!/usr/bin/env bash
# One entry point, from nothing to a finished job, on Debian with Python 3.11 and the package registries:
#   bash dev.sh demo    install, build dist/, then check, fill and export the bundled sample
#   bash dev.sh test    install, lint, type-check, check import layering, run the tests
#   bash dev.sh bench   install, print the benchmark figures
#   bash dev.sh dist    install, build dist/ (template, sample, add-in)
#   bash dev.sh docs    regenerate docs/rules.md from the rule catalogue
#   bash dev.sh mutation     mutation testing of the rule core (catalogue, rules, expr, derive): the share of
#                            mutants the fast pure-core tests kill, per module (not part of test; minutes on 2 cores)
#   bash dev.sh wheelhouse   dist/wheelhouse/: this project's wheel and every dependency for Windows x64 +
#                            Python 3.11, plus install.bat, for PCs with no network; checked to resolve offline
set -euo pipefail
cd "$(dirname "$0")"
job=${1:-demo}
VENV=${XL_ADDIN_VENV:-.venv}
PY="$VENV/bin/python"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

apt_install() {  # apt_install PKG... : install the Debian packages that are missing
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then echo "dev.sh: please install: ${missing[*]}" >&2; return 1; fi
  echo "dev.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_python() {
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && rm -rf "$VENV" && python3 -m venv "$VENV"; }
  fi
  local stamp="$VENV/.xl_addin-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e ".[all,dev]"
    touch "$stamp"
  fi
}

# LibreOffice recalculates the template's formulas and renders the Word export (fonts-liberation: the metrics
# of Times New Roman, the digits' font); poppler turns PDF into PNG and text. Debian's Chromium renders the HTML
# export, and axe-core (npm, pinned in tests/tools/package.json, installed into tests/tools/node_modules) checks
# its accessibility; both work offline once installed.
setup_engines() {
  apt_install libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-noto-cjk fonts-liberation chromium
  if [ ! -f tests/tools/node_modules/axe-core/axe.min.js ]; then
    command -v npm >/dev/null || apt_install npm
    (cd tests/tools && npm ci --no-audit --no-fund --silent)
  fi
  # the WPS add-in's toolchain (typescript and Kingsoft's ET declarations, pinned in wps/package-lock.json): the
  # tests type-check wps/src and check that xl_addin/wps (the built JS, committed) is what tsc builds
  if [ ! -x wps/node_modules/.bin/tsc ]; then
    command -v npm >/dev/null || apt_install npm
    (cd wps && npm ci --no-audit --no-fund --silent)
  fi
}

build_dist() {  # the template, the bundled sample filled in, the Excel add-in
  "$PY" -m xl_addin template -o "dist/年报模板.xlsx"
  "$PY" -m xl_addin put "dist/年报模板.xlsx" --sample -o "dist/样例-将乐县工业和信息化局-2023.xlsx"
  "$PY" -m xl_addin.adapters.xlam_build -o dist/xl_addin.xlam
}

case "$job" in
  demo)
    setup_python
    build_dist
    "$PY" -m xl_addin check "dist/样例-将乐县工业和信息化局-2023.xlsx"
    "$PY" -m xl_addin fill "dist/样例-将乐县工业和信息化局-2023.xlsx" -o "dist/样例-将乐县工业和信息化局-2023-合计.xlsx"
    "$PY" -m xl_addin export "dist/样例-将乐县工业和信息化局-2023-合计.xlsx" -f all -o dist/
    ;;
  dist)
    setup_python
    build_dist
    ;;
  test)
    setup_python
    setup_engines
    "$VENV/bin/ruff" check xl_addin tests bench tools
    "$VENV/bin/mypy"
    "$VENV/bin/lint-imports"
    (cd wps && npx --no-install tsc --noEmit -p .)
    "$PY" -m pytest -q
    ;;
  bench)
    setup_python
    setup_engines
    # the heavy corpora (tests marked heavy), kept out of the test command; pytest's 5 = none marked yet
    "$PY" -m pytest -q -m heavy || [ $? -eq 5 ]
    "$PY" bench/run.py
    for script in bench/*.py; do
      case "$script" in bench/run.py|bench/common.py) ;; *) "$PY" "$script" ;; esac
    done
    ;;
  mutation)
    setup_python
    "$PY" tools/mutation.py "${@:2}"
    ;;
  docs)
    setup_python
    "$PY" -m xl_addin rules --markdown > docs/rules.md
    ;;
  wheelhouse)
    setup_python
    out=dist/wheelhouse
    rm -rf "$out" && mkdir -p "$out"
    "$PY" -m pip wheel -q --no-deps -w "$out" .
    wheel=$(ls "$out"/xl_addin-*.whl)
    # pip evaluates environment markers for this machine, so the Windows-only pywin32 (xlwings) is named here
    "$PY" -m pip download -q -d "$out" --platform win_amd64 --python-version 3.11 --only-binary=:all: \
      "$wheel[all]" pywin32
    # pip evaluates markers for this machine: fetch whatever Windows needs on top, read from the wheels' metadata
    for _ in 1 2 3; do
      lacking=$("$PY" tools/wheelhouse_check.py "$out" "xl_addin[all]") && break
      "$PY" -m pip download -q -d "$out" --platform win_amd64 --python-version 3.11 --only-binary=:all: $lacking
    done
    "$PY" tools/wheelhouse_check.py "$out" "xl_addin[all]"
    cp install.bat "$out/install.bat"
    cp tools/wheelhouse_install.py "$out/install.py"
    check=$(mktemp -d)
    "$PY" -m pip install -q --dry-run --no-index --find-links "$out" --platform win_amd64 --python-version 3.11 \
      --only-binary=:all: --target "$check" "xl_addin[all]" pywin32
    rm -rf "$check"
    echo "dev.sh: $out ($(ls "$out" | wc -l) files) resolves offline for win_amd64 / Python 3.11"
    ;;
  *) echo "usage: bash dev.sh demo|test|bench|dist|docs|mutation|wheelhouse" >&2; exit 2 ;;
esac
