# Read by cpack before it generates the packages (CPACK_PROJECT_CONFIG_FILE).
# CPackDeb puts CPACK_PACKAGE_DESCRIPTION_SUMMARY in front of every component's description unless
# it is CPack's default; the components' descriptions (packaging/CMakeLists.txt) carry their own
# synopsis as their first line, so the common summary must not be added.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_DEFAULT_PACKAGE_DESCRIPTION_SUMMARY}")
