# keyloop_add_man_page(<target> <page.N.in> <component>)
# Configures a manual page template (@PROJECT_VERSION@, @KEYLOOP_RELEASE_DATE@) into the current
# binary dir, gzips it reproducibly at build time (-9n: no name, no time stamp, as Debian wants),
# adds <target> (in ALL; compiles nothing) and, with KEYLOOP_INSTALL, installs the .gz into
# man<N> for <component>. The target's KEYLOOP_MAN_PAGE property is the uncompressed page.
function(keyloop_add_man_page target template component)
    find_program(KEYLOOP_GZIP_EXECUTABLE gzip REQUIRED)
    get_filename_component(name ${template} NAME)
    string(REGEX REPLACE "\\.in$" "" name ${name})
    string(REGEX REPLACE "^.*\\." "" section ${name})
    set(page ${CMAKE_CURRENT_BINARY_DIR}/${name})
    configure_file(${template} ${page} @ONLY)
    add_custom_command(OUTPUT ${page}.gz
        COMMAND ${KEYLOOP_GZIP_EXECUTABLE} -9n -c ${page} > ${page}.gz
        DEPENDS ${page}
        COMMENT "Compressing the manual page ${name}"
        VERBATIM)
    add_custom_target(${target} ALL DEPENDS ${page}.gz)
    set_target_properties(${target} PROPERTIES KEYLOOP_MAN_PAGE ${page})
    if(KEYLOOP_INSTALL)
        install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
    endif()
endfunction()
