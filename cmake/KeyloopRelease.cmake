# The release: one version, project(VERSION) in the top-level CMakeLists.txt, reaches the SONAME,
# <keyloop/version.h>, `keyloop --version`, the packages, the manual pages and the API reference.
# Its date is that version's section in CHANGELOG.md ("## [X.Y.Z] - YYYY-MM-DD").
#   KEYLOOP_RELEASE_DATE   YYYY-MM-DD, or empty when CHANGELOG.md has no section for the version
file(STRINGS ${PROJECT_SOURCE_DIR}/CHANGELOG.md _keyloop_release_heading
    REGEX "^## \\[${PROJECT_VERSION}\\] - [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$")
set(KEYLOOP_RELEASE_DATE "")
if(_keyloop_release_heading)
    string(REGEX REPLACE ".* - " "" KEYLOOP_RELEASE_DATE "${_keyloop_release_heading}")
endif()
