#!/bin/sh
# Installs the county server's WPS 表格 add-in for the current user on a Linux desktop (统信UOS, 麒麟, ...):
# one <jspluginonline> entry in ~/.local/share/Kingsoft/wps/jsaddons/publish.xml pointing at SERVER/wps/
# (the address `xl-addin serve` prints). Other add-ins in publish.xml are kept; running it again replaces our entry.
#   sh install-wps-addin.sh https://gk.example.gov.cn            install (the add-in asks for the token once)
#   sh install-wps-addin.sh https://gk.example.gov.cn --token-file token.txt
#                                                                install with the county's token (the server's
#                                                                --token-file): no question on the PC, as the .xlam
#   sh install-wps-addin.sh --remove                             uninstall
# Then restart WPS and allow the add-in in 加载项安全 (see docs/安装指南.md).
set -eu
NAME="xl_addin_wps"
DIR="${XDG_DATA_HOME:-$HOME/.local/share}/Kingsoft/wps/jsaddons"
FILE="$DIR/publish.xml"

fail() { echo "错误：$1" >&2; exit 2; }

TOKEN=""
if [ "$#" -eq 3 ] && [ "$2" = "--token-file" ]; then
  [ -f "$3" ] && [ -r "$3" ] || fail "读不到令牌文件“$3”（应为县级服务器 --token-file 指定的文件）"
  TOKEN=$(head -n 1 "$3" | tr -d '\r\n')
  # secrets.token_urlsafe's alphabet only (the server's WPS_TOKEN_PATTERN): it becomes part of an address
  echo "$TOKEN" | grep -Eq '^[A-Za-z0-9_-]{16,128}$' ||
    fail "令牌文件“$3”的第一行不是有效的访问令牌（16–128 个字母、数字、- 或 _）"
elif [ "$#" -ne 1 ]; then
  fail "请给出县级服务器地址，例如：sh install-wps-addin.sh https://gk.example.gov.cn [--token-file token.txt]"
fi
if [ "$1" = "--remove" ]; then
  URL=""
else
  URL="${1%/}"
  # scheme://host[:port] only: no path, no user, nothing that could break out of the XML attribute
  echo "$URL" | grep -Eq '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$' ||
    fail "服务器地址“$1”无效：应为 http(s)://主机名[:端口]，例如 https://gk.example.gov.cn"
  if [ -n "$TOKEN" ]; then URL="$URL/wps/t/$TOKEN/"; else URL="$URL/wps/"; fi
fi

mkdir -p "$DIR"
TMP="$FILE.tmp.$$"
trap 'rm -f "$TMP"' EXIT
umask 077  # publish.xml may now hold the token: readable by this user only
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
  if [ -n "$TOKEN" ]; then
    echo "已安装：$FILE 中的 $NAME 指向 ${1%/}/wps/（已写入访问令牌，仅本用户可读）"
  else
    echo "已安装：$FILE 中的 $NAME 指向 $URL"
  fi
  echo "请重新启动 WPS，在“加载项安全”中允许该加载项后，表格中出现“政务公开年报”选项卡。"
else
  echo "已从 $FILE 中删除 $NAME，重新启动 WPS 后生效。"
fi
