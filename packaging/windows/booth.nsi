; Booth's Windows installer (NSIS 3, Modern UI 2).
;
;   makensis -DVERSION=0.1.0 -DBUNDLE=<one-folder bundle> -DOUTFILE=<setup.exe> booth.nsi
;   optional: -DPUBLISHER=<name>; -DUNCOMPRESSED for quick test builds; -DTARGET=x86-unicode for a NSIS without
;   amd64 stubs (the official Windows release has none): a 32-bit installer of the same 64-bit program, which
;   refuses 32-bit Windows. Give BUNDLE and OUTFILE as absolute paths: makensis works in this script's folder.
;
; Where things go:
;   program   $PROGRAMFILES64\Booth, or /D=, or the directory page. Every install replaces the folder whole.
;   data      C:\ProgramData\booth-app (booth.toml, booth.db, logs\, pictures\). Created when missing, never written
;             into by the installer, kept by upgrades, and by uninstalling unless asked.
;
; Command line (all of it works with /S, the silent mode):
;   setup.exe [/S] [/AUTOSTART | /NOAUTOSTART] [/ALLOWDOWNGRADE] [/D=C:\path without quotes, always last]
;   uninstall.exe [/S] [/REMOVEDATA]
; An upgrade keeps the installed folder and the installed choice of autostart unless these say otherwise.
;
; Exit codes: 0 done; 1 cancelled; 2 failed (an upgrade puts the old version back); 3 Booth is running (or a file
; of its folder is in use); 4 a newer Booth is installed (a silent downgrade needs /ALLOWDOWNGRADE); 5 the folder
; cannot take Booth; 6 not an administrator, or not 64-bit Windows.

!ifndef VERSION | BUNDLE | OUTFILE
  !error "Define VERSION, BUNDLE and OUTFILE: makensis -DVERSION=0.1.0 -DBUNDLE=dist/booth-app -DOUTFILE=setup.exe"
!endif
!if ! /FileExists "${BUNDLE}\booth-app.exe"
  !error "${BUNDLE} has no booth-app.exe: BUNDLE must be the Windows one-folder bundle"
!endif
!define /ifndef PUBLISHER "Booth"
!define /ifndef TARGET "amd64-unicode"

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Booth"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define EXE "booth-app.exe"

Unicode true
Target ${TARGET}
ManifestDPIAware true
ManifestSupportedOS all
RequestExecutionLevel admin
!ifdef UNCOMPRESSED  ; a quick build for tests: the same installer, only bigger
  SetCompress off
!else
  SetCompressor /SOLID lzma
  SetCompressorDictSize 64  ; the bundle is mostly Qt and Python libraries: a larger window finds more repeats
!endif

Name "Booth ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\Booth"
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"  ; an upgrade goes where the installed Booth is
BrandingText "Booth ${VERSION}"
ShowInstDetails show
ShowUninstDetails show
AllowSkipFiles off  ; a file that cannot be written fails the install (and puts the old version back)

!searchparse /noerrors "${VERSION}" "" VERSION_MAJOR "." VERSION_MINOR "." VERSION_PATCH
VIProductVersion "${VERSION_MAJOR}.${VERSION_MINOR}.${VERSION_PATCH}.0"
VIAddVersionKey /LANG=0 "ProductName" "Booth"
VIAddVersionKey /LANG=0 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=0 "FileDescription" "Booth ${VERSION} setup"
VIAddVersionKey /LANG=0 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=0 "LegalCopyright" "Copyright ${PUBLISHER}"

!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include WordFunc.nsh
!include nsDialogs.nsh
!include x64.nsh

Var DataDir      ; C:\ProgramData\booth-app
Var OldDir       ; the installed Booth's folder, if any
Var OldVersion   ; the installed Booth's version, if any
Var AsideOld     ; old program folders renamed out of the way: deleted once the new one is in, or put back
Var AsideNew
Var Copying      ; 1 once the new program is being written into $INSTDIR
Var RemoveData   ; uninstaller: 1 deletes $DataDir too
Var RemoveDataBox

; ---------------------------------------------------------------- pages

!define MUI_ABORTWARNING
!define MUI_UNABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
; The uninstaller and later upgrades speak the language chosen at the first install.
!define MUI_LANGDLL_REGISTRY_ROOT HKLM
!define MUI_LANGDLL_REGISTRY_KEY "${UNINSTALL_KEY}"
!define MUI_LANGDLL_REGISTRY_VALUENAME "Installer Language"
!define MUI_LANGDLL_ALLLANGUAGES

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!define MUI_PAGE_CUSTOMFUNCTION_LEAVE DirectoryLeave
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
; No "run Booth now" box: it would start Booth as the administrator who installs, not as the cashier.
!define MUI_FINISHPAGE_TEXT "$(FinishText)"
!insertmacro MUI_PAGE_FINISH

UninstPage custom un.DataPageShow un.DataPageLeave
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; The installer speaks the language of Windows when it has it, else the first one: Chinese.
!insertmacro MUI_LANGUAGE "SimpChinese"
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_RESERVEFILE_LANGDLL
!include strings.nsh

; ---------------------------------------------------------------- helpers for both installer and uninstaller
; They take and return values in registers, named in each comment; $R3 to $R7 are scratch.

!macro FOLDER_FUNCTIONS un
  ; $R3 = 1 when path $R4 is folder $R5 or lies inside it (case-insensitive, as Windows compares paths).
  Function ${un}IsInside
    StrLen $R3 $R5
    StrCpy $R6 $R4 $R3
    StrCpy $R7 $R4 1 $R3
    StrCpy $R3 0
    ${If} $R6 == $R5
      ${If} $R7 == ""
      ${OrIf} $R7 == "\"
        StrCpy $R3 1
      ${EndIf}
    ${EndIf}
  FunctionEnd

  ; $R1 = 1 when folder $R0 must never be a program folder, since installs and uninstalls delete it whole:
  ; a drive's root, Windows, Program Files or Common Files themselves, or anything holding or inside Booth's data.
  Function ${un}IsUnsafeDir
    StrCpy $R1 1
    StrLen $R3 $R0
    ${If} $R3 <= 3
    ${OrIf} $R0 == $PROGRAMFILES64
    ${OrIf} $R0 == $PROGRAMFILES32
    ${OrIf} $R0 == $COMMONFILES64
    ${OrIf} $R0 == $COMMONFILES32
    ${OrIf} $R0 == $PROFILE
      Return
    ${EndIf}
    StrCpy $R4 $R0
    StrCpy $R5 $WINDIR
    Call ${un}IsInside
    ${If} $R3 == 1
      Return
    ${EndIf}
    StrCpy $R5 $DataDir
    Call ${un}IsInside
    ${If} $R3 == 1
      Return
    ${EndIf}
    StrCpy $R4 $DataDir
    StrCpy $R5 $R0
    Call ${un}IsInside
    ${If} $R3 == 1
      Return
    ${EndIf}
    StrCpy $R1 0
  FunctionEnd

  ; Waits while Booth runs from folder $R0, asking the person at the screen to close it; a silent run, or a person
  ; who cancels, ends with exit code 3. A running program's file cannot be opened for writing: that test needs no
  ; process list, works in a silent run, and under wine too.
  Function ${un}RefuseIfRunning
    ${Do}
      ${IfNot} ${FileExists} "$R0\${EXE}"
        Return
      ${EndIf}
      ClearErrors
      FileOpen $R3 "$R0\${EXE}" a
      ${IfNot} ${Errors}
        FileClose $R3
        Return
      ${EndIf}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(MsgRunning)" /SD IDCANCEL IDRETRY retry
      SetErrorLevel 3
      Abort
      retry:
    ${Loop}
  FunctionEnd
!macroend
!insertmacro FOLDER_FUNCTIONS ""
!insertmacro FOLDER_FUNCTIONS "un."

; ---------------------------------------------------------------- installer helpers

; $R1 = 1 when folder $R0 is missing or empty.
Function IsEmptyDir
  StrCpy $R1 1
  ClearErrors
  FindFirst $R3 $R4 "$R0\*"
  ${DoUntil} ${Errors}
    ${If} $R4 != "."
    ${AndIf} $R4 != ".."
      StrCpy $R1 0
      ${Break}
    ${EndIf}
    FindNext $R3 $R4
  ${Loop}
  FindClose $R3
FunctionEnd

; $R2 = why folder $R0 cannot take Booth, or "" when it can: it must be safe to delete whole (see IsUnsafeDir),
; and missing, empty, or an earlier Booth, so that replacing it whole deletes nobody else's files.
Function CheckTargetDir
  StrCpy $R2 ""
  Call IsUnsafeDir
  ${If} $R1 == 1
    StrCpy $R2 "$(MsgUnsafeDir)"
    Return
  ${EndIf}
  ${If} ${FileExists} "$R0\${EXE}"
  ${OrIf} $R0 == $OldDir
    Return
  ${EndIf}
  Call IsEmptyDir
  ${If} $R1 == 0
    StrCpy $R2 "$(MsgNotEmpty)"
  ${EndIf}
FunctionEnd

; Renames the non-empty folder $R0 to a new name beside it, returned in $R2 ("" when there was nothing to move).
; Windows refuses to rename a folder while a program uses a file in it: that ends the install with exit code 3.
Function MoveAside
  StrCpy $R2 ""
  Call IsEmptyDir
  ${If} $R1 == 1
    Return
  ${EndIf}
  System::Call "kernel32::GetTickCount() i .R3"
  ${Do}
    StrCpy $R2 "$R0.old-$R3"
    IntOp $R3 $R3 + 1
  ${LoopWhile} ${FileExists} "$R2"
  ClearErrors
  Rename "$R0" "$R2"
  ${If} ${Errors}
    StrCpy $R2 ""
    MessageBox MB_OK|MB_ICONSTOP "$(MsgInUse)" /SD IDOK
    SetErrorLevel 3
    Abort
  ${EndIf}
  DetailPrint "$(DetailMovedAside)"
FunctionEnd

Function DirectoryLeave
  StrCpy $R0 $INSTDIR
  Call CheckTargetDir
  ${If} $R2 != ""
    MessageBox MB_OK|MB_ICONEXCLAMATION "$R2"
    Abort
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------- installer

Section "-Booth" SecProgram
  SectionIn RO

  ; Nothing changes until every check has passed.
  StrCpy $R0 $INSTDIR
  Call CheckTargetDir
  ${If} $R2 != ""
    MessageBox MB_OK|MB_ICONSTOP "$R2" /SD IDOK
    SetErrorLevel 5
    Abort
  ${EndIf}
  Call RefuseIfRunning
  ${If} $OldDir != ""
    StrCpy $R0 $OldDir
    Call RefuseIfRunning
  ${EndIf}

  ; The old program folder goes whole, so no file of an old version lingers beside the new one. It is only renamed
  ; until the new one is in: a failed install puts it back (.onInstFailed).
  ${If} $OldDir != ""
  ${AndIf} $OldDir != $INSTDIR
    StrCpy $R0 $OldDir
    Call IsUnsafeDir
    ${If} $R1 == 0
      Call MoveAside
      StrCpy $AsideOld $R2
    ${EndIf}
  ${EndIf}
  StrCpy $R0 $INSTDIR
  Call MoveAside
  StrCpy $AsideNew $R2

  StrCpy $Copying 1
  SetOutPath "$INSTDIR"
  File /r "${BUNDLE}\*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Data and configuration live outside the program folder. Every Windows account of the booth PC runs the same
  ; Booth on the same database, so Users (by SID: the group's name is translated) may change what is in there;
  ; otherwise the file's creator alone could, and Booth started once as an administrator would lock out the cashier.
  CreateDirectory "$DataDir"
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$DataDir" /grant *S-1-5-32-545:(OI)(CI)M'
  Pop $0

  ; Shortcuts for every account. They start Booth in its data folder, so nothing can land in the program folder.
  RMDir /r "$SMPROGRAMS\Booth"
  CreateDirectory "$SMPROGRAMS\Booth"
  SetOutPath "$DataDir"
  CreateShortcut "$SMPROGRAMS\Booth\Booth.lnk" "$INSTDIR\${EXE}"
  CreateShortcut "$SMPROGRAMS\Booth\$(ShortcutDemo).lnk" "$INSTDIR\${EXE}" "--demo"
  CreateShortcut "$SMPROGRAMS\Booth\$(ShortcutUninstall).lnk" "$INSTDIR\uninstall.exe"

  ; The autostart section writes its value again when it is chosen.
  DeleteRegValue HKLM "${RUN_KEY}" "Booth"

  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "Booth"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" '"$INSTDIR\${EXE}",0'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Installer Language" "$LANGUAGE"
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

; Autostart is the machine's Run key rather than the all-users Startup folder: a cashier cannot delete it or start a
; second Booth from the Start menu's Startup entry, it is one value IT can check with "reg query", and it lives
; beside the uninstall entry the installer already owns.
Section /o "$(SecAutostart)" SecAutostart
  WriteRegStr HKLM "${RUN_KEY}" "Booth" '"$INSTDIR\${EXE}"'
SectionEnd

Section "-Cleanup"
  ${If} $AsideOld != ""
    RMDir /r /REBOOTOK "$AsideOld"
  ${EndIf}
  ${If} $AsideNew != ""
    RMDir /r /REBOOTOK "$AsideNew"
  ${EndIf}
SectionEnd

Function .onInit
  SetShellVarContext all
  SetRegView 64
  StrCpy $DataDir "$APPDATA\booth-app"
  !insertmacro MUI_LANGDLL_DISPLAY

  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "$(MsgNeed64)" /SD IDOK
    SetErrorLevel 6
    Abort
  ${EndIf}
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "Admin"
    MessageBox MB_OK|MB_ICONSTOP "$(MsgNeedAdmin)" /SD IDOK
    SetErrorLevel 6
    Abort
  ${EndIf}

  ReadRegStr $OldDir HKLM "${UNINSTALL_KEY}" "InstallLocation"
  ReadRegStr $OldVersion HKLM "${UNINSTALL_KEY}" "DisplayVersion"
  ${GetParameters} $R0

  ; Going back to an older Booth is sometimes what a car park needs after a bad upgrade, but the database may already
  ; have been moved on by the newer one: a person confirms it, a silent install needs /ALLOWDOWNGRADE.
  ${If} $OldVersion != ""
    ${VersionCompare} "$OldVersion" "${VERSION}" $0
    ClearErrors
    ${GetOptions} $R0 "/ALLOWDOWNGRADE" $1
    ${If} $0 == 1
    ${AndIf} ${Errors}
      MessageBox MB_YESNO|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "$(MsgDowngrade)" /SD IDNO IDYES downgrade
      SetErrorLevel 4
      Abort
      downgrade:
    ${EndIf}
  ${EndIf}

  ; Autostart stays as the installed Booth had it, unless the command line says otherwise.
  ReadRegStr $0 HKLM "${RUN_KEY}" "Booth"
  ${If} $0 != ""
    !insertmacro SelectSection ${SecAutostart}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/AUTOSTART" $1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecAutostart}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/NOAUTOSTART" $1
  ${IfNot} ${Errors}
    !insertmacro UnselectSection ${SecAutostart}
  ${EndIf}
FunctionEnd

; A failed install puts the old program back where it was, so the booth keeps the Booth it had.
Function .onInstFailed
  SetOutPath "$TEMP"  ; the installer's working folder, inside $INSTDIR, could not be deleted
  ${If} $Copying == 1
    RMDir /r "$INSTDIR"
  ${EndIf}
  ${If} $AsideNew != ""
    Rename "$AsideNew" "$INSTDIR"
  ${EndIf}
  ${If} $AsideOld != ""
    Rename "$AsideOld" "$OldDir"
  ${EndIf}
FunctionEnd

; ---------------------------------------------------------------- uninstaller

Function un.onInit
  SetShellVarContext all
  SetRegView 64
  StrCpy $DataDir "$APPDATA\booth-app"
  !insertmacro MUI_UNGETLANGUAGE

  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "Admin"
    MessageBox MB_OK|MB_ICONSTOP "$(MsgNeedAdmin)" /SD IDOK
    SetErrorLevel 6
    Abort
  ${EndIf}

  StrCpy $RemoveData 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/REMOVEDATA" $1
  ${IfNot} ${Errors}
    StrCpy $RemoveData 1
  ${EndIf}
FunctionEnd

Function un.DataPageShow
  ${IfNot} ${FileExists} "$DataDir\*"
    Abort  ; nothing to keep or delete: skip the page
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "$(DataPageTitle)" "$(DataPageSubtitle)"
  nsDialogs::Create 1018
  Pop $0
  ${NSD_CreateLabel} 0 0 100% 70% "$(DataPageText)"
  Pop $0
  ${NSD_CreateCheckbox} 0 -24u 100% 12u "$(RemoveDataBox)"
  Pop $RemoveDataBox
  ${If} $RemoveData == 1
    ${NSD_Check} $RemoveDataBox
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function un.DataPageLeave
  ${NSD_GetState} $RemoveDataBox $0
  StrCpy $RemoveData 0
  ${If} $0 == ${BST_CHECKED}
    MessageBox MB_YESNO|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "$(RemoveDataConfirm)" IDYES remove
    Abort  ; stay on the page
    remove:
    StrCpy $RemoveData 1
  ${EndIf}
FunctionEnd

Section "Uninstall"
  StrCpy $R0 $INSTDIR
  Call un.RefuseIfRunning

  DeleteRegValue HKLM "${RUN_KEY}" "Booth"
  RMDir /r "$SMPROGRAMS\Booth"
  Call un.IsUnsafeDir
  ${If} $R1 == 0
    RMDir /r /REBOOTOK "$INSTDIR"
  ${Else}
    ; Never delete whole a folder Booth does not own: only what an install put there.
    Delete /REBOOTOK "$INSTDIR\${EXE}"
    RMDir /r /REBOOTOK "$INSTDIR\_internal"
    Delete /REBOOTOK "$INSTDIR\uninstall.exe"
  ${EndIf}
  DeleteRegKey HKLM "${UNINSTALL_KEY}"

  ${If} $RemoveData == 1
    RMDir /r /REBOOTOK "$DataDir"
  ${EndIf}
SectionEnd
