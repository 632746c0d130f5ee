<#
.SYNOPSIS
Builds a Booth release on Windows: the one-folder bundle, its smoke test, then the installer.

.DESCRIPTION
Needs Python 3.11 (the py launcher, or python on PATH) and NSIS 3 (makensis on PATH or in its usual folder).
Writes dist\booth-app\ and dist\booth-app-<version>-setup.exe, the version being pyproject.toml's. Run it from
anywhere:

    powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1

.PARAMETER Target
The installer's own CPU and character set. By default amd64-unicode when this NSIS has the amd64 stubs (the official
NSIS release does not ship them), else x86-unicode: a 32-bit installer of the same 64-bit program, which installs it
in the same places.
#>
param(
    [ValidateSet('', 'amd64-unicode', 'x86-unicode')]
    [string] $Target = ''
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$UvVersion = '0.13.8'  # the same as scripts/install-python-packages
Set-Location (Resolve-Path (Join-Path $PSScriptRoot '..\..'))

function Invoke-Checked([string] $Program, [string[]] $Arguments) {
    # Stops the build when a program fails: $ErrorActionPreference does not look at native exit codes.
    & $Program @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Program $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-Output([string] $Program, [string[]] $Arguments) {
    # A program's output, or $null when it is missing or fails. Windows PowerShell turns a native program's stderr
    # into errors, which 'Stop' would make fatal: this only asks, so it lets them pass.
    $ErrorActionPreference = 'Continue'
    try { $output = & $Program @Arguments 2>$null } catch { return $null }
    if ($LASTEXITCODE -ne 0 -or -not $output) { return $null }
    return ($output | Select-Object -Last 1).ToString().Trim()
}

# Python 3.11, which the bundle is built with. (No double quotes in -c: Windows PowerShell would pass them mangled.)
$which311 = @('-c', 'import sys; sys.version_info[:2] == (3, 11) and print(sys.executable)')
$Python = Get-Output 'py' (@('-3.11') + $which311)
if (-not $Python) { $Python = Get-Output 'python' $which311 }
if (-not $Python) { throw 'Python 3.11 not found: install it from python.org (with the py launcher)' }
Write-Host "Python: $Python"

# uv at the pinned version, installed for this user and run as 'python -m uv'.
if ((Get-Output $Python @('-m', 'uv', '--version')) -notmatch "^uv $([regex]::Escape($UvVersion))\b") {
    Invoke-Checked $Python @('-m', 'pip', 'install', '--user', '--quiet', '--disable-pip-version-check',
        "uv==$UvVersion")
}
function Invoke-Uv([string[]] $Arguments) { Invoke-Checked $Python (@('-m', 'uv') + $Arguments) }

# NSIS, checked before the long part of the build.
$makensis = Get-Command makensis -ErrorAction SilentlyContinue | Select-Object -First 1 | ForEach-Object { $_.Source }
if (-not $makensis) {
    $makensis = @("${env:ProgramFiles(x86)}\NSIS\makensis.exe", "$env:ProgramFiles\NSIS\makensis.exe") |
        Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $makensis) { throw 'makensis not found: install NSIS 3, or put makensis on PATH' }
$stubs = Join-Path (Split-Path $makensis) 'Stubs'
if (-not $Target) {
    $Target = if ((Test-Path $stubs) -and -not (Get-ChildItem $stubs -Filter '*-amd64-unicode')) { 'x86-unicode' }
              else { 'amd64-unicode' }
    Write-Host "Installer target: $Target"
}
if ((Test-Path $stubs) -and -not (Get-ChildItem $stubs -Filter "*-$Target")) {
    throw "This NSIS ($makensis) has no $Target stubs. Use an NSIS build that has them, or -Target x86-unicode."
}

# The bundle, and the smoke test of the program as it will be installed.
Invoke-Uv @('sync', '--frozen', '--group', 'packaging', '--python', $Python)
Invoke-Uv @('run', '--frozen', 'pyinstaller', '--noconfirm', 'packaging/booth.spec')
$bundle = Join-Path $PWD 'dist\booth-app'
# The console twin of booth-app.exe (same program, same files): its one line shows here and its exit code counts.
Invoke-Checked (Join-Path $bundle 'booth-app-console.exe') @('--smoke-test')

# The installer.
$readVersion = 'import tomllib; print(tomllib.load(open(''pyproject.toml'', ''rb''))[''project''][''version''])'
$version = Get-Output $Python @('-c', $readVersion)
if (-not $version) { throw 'Cannot read the version from pyproject.toml' }
$installer = Join-Path $PWD "dist\booth-app-$version-setup.exe"
Invoke-Checked $makensis @('/V2', '/WX', "/DVERSION=$version", "/DBUNDLE=$bundle", "/DOUTFILE=$installer",
    "/DTARGET=$Target", 'packaging\windows\booth.nsi')
$size = (Get-Item $installer).Length
Write-Host ('{0}: {1:N1} MB ({2} bytes)' -f "dist\booth-app-$version-setup.exe", ($size / 1MB), $size)
