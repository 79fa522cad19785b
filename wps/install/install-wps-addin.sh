#!/bin/sh
# Installs the county server's WPS 表格 add-in for the current user on a Linux desktop (统信UOS, 麒麟, ...):
# one <jspluginonline> entry in ~/.local/share/Kingsoft/wps/jsaddons/publish.xml pointing at SERVER/wps/
# (the address `xl-addin serve` prints). Other add-ins in publish.xml are kept; running it again replaces our entry.
#   sh install-wps-addin.sh https://gk.example.gov.cn            install
#   sh install-wps-addin.sh --remove                             uninstall
# Then restart WPS and allow the add-in in 加载项安全 (see docs/安装指南.md).
set -eu
NAME="xl_addin_wps"
DIR="${XDG_DATA_HOME:-$HOME/.local/share}/Kingsoft/wps/jsaddons"
FILE="$DIR/publish.xml"

fail() { echo "错误：$1" >&2; exit 2; }

if [ "$#" -ne 1 ]; then
  fail "请给出县级服务器地址，例如：sh install-wps-addin.sh https://gk.example.gov.cn"
fi
if [ "$1" = "--remove" ]; then
  URL=""
else
  URL="${1%/}"
  # scheme://host[:port] only: no path, no user, nothing that could break out of the XML attribute
  echo "$URL" | grep -Eq '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$' ||
    fail "服务器地址“$1”无效：应为 http(s)://主机名[:端口]，例如 https://gk.example.gov.cn"
  URL="$URL/wps/"
fi

mkdir -p "$DIR"
TMP="$FILE.tmp.$$"
trap 'rm -f "$TMP"' EXIT
{
  echo '<?xml version="1.0" encoding="UTF-8"?>'
  echo '<jsplugins>'
  if [ -f "$FILE" ]; then
    # every entry but ours, one element a line as WPS writes them
    grep -E '^[[:space:]]*<jsplugin(online)?[[:space:]]' "$FILE" | grep -v "name=\"$NAME\"" || true
  fi
  if [ -n "$URL" ]; then
    echo "  <jspluginonline name=\"$NAME\" type=\"et\" url=\"$URL\" enable=\"enable\" install=\"null\" customDomain=\"\"/>"
  fi
  echo '</jsplugins>'
} > "$TMP"
mv "$TMP" "$FILE"
trap - EXIT
if [ -n "$URL" ]; then
  echo "已安装：$FILE 中的 $NAME 指向 $URL"
  echo "请重新启动 WPS，在“加载项安全”中允许该加载项后，表格中出现“政务公开年报”选项卡。"
else
  echo "已从 $FILE 中删除 $NAME，重新启动 WPS 后生效。"
fi
