@echo off
rem Installs or upgrades xl_addin and all its dependencies from this folder, with no network (install.py:
rem pip install --upgrade --no-index, exactly the version of the xl_addin wheel here), and says which version
rem is installed. Usage (as administrator, from the wheelhouse folder):  install.bat [C:\Python311\python.exe]
rem The messages are Chinese: the console is switched to UTF-8 (this file is UTF-8).
chcp 65001 >nul
setlocal
set "PY=%~1"
if "%PY%"=="" set "PY=C:\Python311\python.exe"
if not exist "%PY%" (
  echo 找不到 Python：%PY%  —— 请先安装 64 位 Python 3.11，或给出它的路径：install.bat C:\路径\python.exe
  exit /b 2
)
"%PY%" "%~dp0install.py" "%~dp0."
if errorlevel 1 exit /b 1
"%PY%" -m xl_addin --version
echo 完成。
