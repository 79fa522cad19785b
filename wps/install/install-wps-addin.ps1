# Installs the county server's WPS 表格 add-in for the current Windows user: one <jspluginonline> entry in
# %APPDATA%\kingsoft\wps\jsaddons\publish.xml pointing at SERVER/wps/ (the address `xl-addin serve` prints).
# Other add-ins in publish.xml are kept; running it again replaces our entry.
#   powershell -NoProfile -ExecutionPolicy Bypass -File install-wps-addin.ps1 -Server https://gk.example.gov.cn
#   ... install-wps-addin.ps1 -Server https://gk.example.gov.cn -TokenFile token.txt
#       with the county's token (the server's --token-file) in the address: the add-in asks nothing on the PC
#   powershell -NoProfile -ExecutionPolicy Bypass -File install-wps-addin.ps1 -Remove
# Not run on a real Windows PC by the project's tests (see docs/安装指南.md).
param([string]$Server = "", [string]$TokenFile = "", [switch]$Remove)
$ErrorActionPreference = "Stop"
$name = "xl_addin_wps"
$dir = Join-Path $env:APPDATA "kingsoft\wps\jsaddons"
$file = Join-Path $dir "publish.xml"
if (-not $Remove) {
    $Server = $Server.TrimEnd("/")
    if ($Server -notmatch '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$') {
        Write-Error "服务器地址“$Server”无效：应为 http(s)://主机名[:端口]，例如 https://gk.example.gov.cn"
        exit 2
    }
    $path = "$Server/wps/"
    if ($TokenFile -ne "") {
        if (-not (Test-Path -LiteralPath $TokenFile -PathType Leaf)) {
            Write-Error "读不到令牌文件“$TokenFile”（应为县级服务器 --token-file 指定的文件）"
            exit 2
        }
        $token = (Get-Content -LiteralPath $TokenFile -TotalCount 1).Trim()
        # secrets.token_urlsafe's alphabet only (the server's WPS_TOKEN_PATTERN): it becomes part of an address
        if ($token -cnotmatch '^[A-Za-z0-9_-]{16,128}$') {
            Write-Error "令牌文件“$TokenFile”的第一行不是有效的访问令牌（16–128 个字母、数字、- 或 _）"
            exit 2
        }
        $path = "$Server/wps/t/$token/"
    }
}
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$xml = New-Object System.Xml.XmlDocument
if (Test-Path $file) { $xml.Load($file) } else { $xml.LoadXml('<?xml version="1.0" encoding="UTF-8"?><jsplugins/>') }
$root = $xml.DocumentElement
foreach ($node in @($root.ChildNodes)) {
    if ($node.NodeType -eq "Element" -and $node.GetAttribute("name") -eq $name) { [void]$root.RemoveChild($node) }
}
if (-not $Remove) {
    $e = $xml.CreateElement("jspluginonline")
    foreach ($kv in @(@("name", $name), @("type", "et"), @("url", $path), @("enable", "enable"),
                      @("install", "null"), @("customDomain", ""))) { $e.SetAttribute($kv[0], $kv[1]) }
    [void]$root.AppendChild($e)
}
$tmp = "$file.tmp"
$xml.Save($tmp)
Move-Item -Force $tmp $file
if ($Remove) { Write-Output "已从 $file 中删除 $name，重新启动 WPS 后生效。" }
else { Write-Output "已安装：$file 中的 $name 指向 $Server/wps/。请重新启动 WPS，在“加载项安全”中允许该加载项。" }
