# Installs the county server's WPS 表格 add-in for the current Windows user: one <jspluginonline> entry in
# %APPDATA%\kingsoft\wps\jsaddons\publish.xml pointing at SERVER/wps/ (the address `xl-addin serve` prints).
# Other add-ins in publish.xml are kept; running it again replaces our entry.
#   powershell -NoProfile -ExecutionPolicy Bypass -File install-wps-addin.ps1 -Server https://gk.example.gov.cn
#   powershell -NoProfile -ExecutionPolicy Bypass -File install-wps-addin.ps1 -Remove
# Not run on a real Windows PC by the project's tests (see docs/安装指南.md).
param([string]$Server = "", [switch]$Remove)
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
    foreach ($kv in @(@("name", $name), @("type", "et"), @("url", "$Server/wps/"), @("enable", "enable"),
                      @("install", "null"), @("customDomain", ""))) { $e.SetAttribute($kv[0], $kv[1]) }
    [void]$root.AppendChild($e)
}
$tmp = "$file.tmp"
$xml.Save($tmp)
Move-Item -Force $tmp $file
if ($Remove) { Write-Output "已从 $file 中删除 $name，重新启动 WPS 后生效。" }
else { Write-Output "已安装：$file 中的 $name 指向 $Server/wps/。请重新启动 WPS，在“加载项安全”中允许该加载项。" }
