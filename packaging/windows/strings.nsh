; The installer's own words, in Chinese and English. Saved as UTF-8 with a byte-order mark, which is how makensis
; knows it is UTF-8 whatever the machine's code page.

!define MUI_LANGDLL_WINDOWTITLE "安装语言 / Installer Language"
!define MUI_LANGDLL_INFO "请选择语言。/ Please select a language."

LangString SecAutostart ${LANG_SIMPCHINESE} "登录 Windows 时自动启动 Booth"
LangString SecAutostart ${LANG_ENGLISH} "Start Booth at logon"

LangString ShortcutDemo ${LANG_SIMPCHINESE} "Booth 演示"
LangString ShortcutDemo ${LANG_ENGLISH} "Booth demo"
LangString ShortcutUninstall ${LANG_SIMPCHINESE} "卸载 Booth"
LangString ShortcutUninstall ${LANG_ENGLISH} "Uninstall Booth"

LangString FinishText ${LANG_SIMPCHINESE} "Booth ${VERSION} 已安装到 $INSTDIR。$\r$\n$\r$\n配置（booth.toml）、数据库、日志和图片保存在 $DataDir。升级不会改动这些数据，卸载时默认保留。"
LangString FinishText ${LANG_ENGLISH} "Booth ${VERSION} is installed in $INSTDIR.$\r$\n$\r$\nIts configuration (booth.toml), database, logs and pictures are in $DataDir. Upgrades leave them alone, and uninstalling keeps them unless asked."

LangString MsgRunning ${LANG_SIMPCHINESE} "Booth 正在运行（$R0）。请先关闭 Booth，再点击“重试”。"
LangString MsgRunning ${LANG_ENGLISH} "Booth is running (from $R0). Close Booth, then click Retry."
LangString MsgInUse ${LANG_SIMPCHINESE} "$R0 中有文件正被其他程序使用。请关闭这些程序后再运行一次。"
LangString MsgInUse ${LANG_ENGLISH} "A file in $R0 is in use by another program. Close the programs using it, then run this again."
LangString MsgDowngrade ${LANG_SIMPCHINESE} "已安装的 Booth $OldVersion 比本安装程序中的 ${VERSION} 新。$\r$\n$\r$\n数据和配置会保留，但 $OldVersion 用过的数据库可能无法在 ${VERSION} 中打开：降级前请先备份 $DataDir。$\r$\n$\r$\n仍要安装旧版本 ${VERSION} 吗？"
LangString MsgDowngrade ${LANG_ENGLISH} "Booth $OldVersion is installed, newer than this installer's ${VERSION}.$\r$\n$\r$\nData and configuration are kept, but a database already used by $OldVersion may not open in ${VERSION}: copy $DataDir somewhere safe before going back.$\r$\n$\r$\nInstall the older version ${VERSION}?"
LangString MsgNotEmpty ${LANG_SIMPCHINESE} "$R0 中已有其他文件。Booth 需要单独的文件夹：请选择一个空文件夹，或以前安装 Booth 的文件夹。"
LangString MsgNotEmpty ${LANG_ENGLISH} "$R0 already holds other files. Booth needs a folder of its own: choose an empty folder, or the folder of an earlier Booth."
LangString MsgUnsafeDir ${LANG_SIMPCHINESE} "不能把 Booth 安装到 $R0（系统文件夹、磁盘根目录或 Booth 的数据文件夹）。请选择单独的文件夹，例如 $PROGRAMFILES64\Booth。"
LangString MsgUnsafeDir ${LANG_ENGLISH} "Booth cannot be installed in $R0 (a system folder, a drive's root, or Booth's data folder). Choose a folder of its own, such as $PROGRAMFILES64\Booth."
LangString MsgNeedAdmin ${LANG_SIMPCHINESE} "安装或卸载 Booth 需要管理员权限。"
LangString MsgNeedAdmin ${LANG_ENGLISH} "Installing or removing Booth needs an administrator account."
LangString MsgNeed64 ${LANG_SIMPCHINESE} "Booth 需要 64 位 Windows。"
LangString MsgNeed64 ${LANG_ENGLISH} "Booth needs 64-bit Windows."
LangString DetailMovedAside ${LANG_SIMPCHINESE} "旧版本已移到 $R2，安装完成后删除"
LangString DetailMovedAside ${LANG_ENGLISH} "Old version moved to $R2, to be deleted once the new one is in"

LangString DataPageTitle ${LANG_SIMPCHINESE} "数据和配置"
LangString DataPageTitle ${LANG_ENGLISH} "Data and configuration"
LangString DataPageSubtitle ${LANG_SIMPCHINESE} "保留 Booth 的数据以便以后重新安装，或将其删除。"
LangString DataPageSubtitle ${LANG_ENGLISH} "Keep Booth's data for a later install, or delete it."
LangString DataPageText ${LANG_SIMPCHINESE} "Booth 的配置（booth.toml）、数据库（在场车辆、收费记录和尚未上传泊链的数据）、日志和车牌图片保存在：$\r$\n$\r$\n$DataDir$\r$\n$\r$\n除非勾选下面的选项，这些数据都会保留，重新安装 Booth 后可以继续使用。"
LangString DataPageText ${LANG_ENGLISH} "Booth's configuration (booth.toml), its database (cars inside, payments, and reports not yet sent to Bolink), its logs and the camera pictures are in:$\r$\n$\r$\n$DataDir$\r$\n$\r$\nThey are kept unless you tick the box below, so Booth installed again carries on where it stopped."
LangString RemoveDataBox ${LANG_SIMPCHINESE} "同时删除数据和配置（数据库、日志、图片）"
LangString RemoveDataBox ${LANG_ENGLISH} "Also delete data and configuration (database, logs, pictures)"
LangString RemoveDataConfirm ${LANG_SIMPCHINESE} "确定删除 $DataDir 及其中的所有内容吗？数据库（包括尚未上传泊链的数据）删除后无法恢复。"
LangString RemoveDataConfirm ${LANG_ENGLISH} "Delete $DataDir and everything in it? The database, with any reports not yet sent to Bolink, cannot be recovered."
