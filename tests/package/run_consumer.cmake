# Builds and runs a consumer of locknix, in script mode (cmake -P):
#   MODE=find_package   installs the built library into a private prefix, then builds
#                       consumer/ against it with find_package(locknix CONFIG REQUIRED);
#   MODE=add_subdirectory builds subdir_consumer/, which adds the locknix source tree.
# Other variables: LOCKNIX_BUILD_DIR, LOCKNIX_SOURCE_DIR, WORK_DIR, CONFIG, GENERATOR,
# CXX_COMPILER, C_COMPILER, SANITIZE (the LOCKNIX_SANITIZE of the build, for the consumer's flags).

cmake_minimum_required(VERSION 3.25)

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "failed (${result}): ${command}")
    endif()
endfunction()

# A single-configuration build without a build type has an empty configuration.
set(config_args)
if(CONFIG)
    set(config_args --config ${CONFIG})
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(here ${CMAKE_CURRENT_LIST_DIR})

set(configure_args --no-warn-unused-cli -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)

if(MODE STREQUAL "find_package")
    list(APPEND configure_args -DCMAKE_BUILD_TYPE=${CONFIG})
    if(SANITIZE)
        # The installed library was built with sanitizers; the consumer links their runtimes.
        list(APPEND configure_args "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}"
                                   "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
    endif()
    set(prefix ${WORK_DIR}/prefix)
    run(${CMAKE_COMMAND} --install ${LOCKNIX_BUILD_DIR} --prefix ${prefix} ${config_args})
    file(GLOB_RECURSE config_files ${prefix}/*/locknixConfig.cmake)
    file(GLOB_RECURSE headers RELATIVE ${prefix} ${prefix}/include/locknix/*.hpp)
    if(NOT config_files OR NOT "include/locknix/file_lock.hpp" IN_LIST headers)
        message(FATAL_ERROR "the install lacks locknixConfig.cmake or the headers")
    endif()
    run(${CMAKE_COMMAND} -S ${here}/consumer -B ${WORK_DIR}/build ${configure_args}
        -DCMAKE_PREFIX_PATH=${prefix} -DLOCKNIX_EXPECTED_PREFIX=${prefix})
elseif(MODE STREQUAL "add_subdirectory")
    # The library is compiled afresh here, so neither the build type nor the sanitizers of the
    # build under test matter: no build type keeps the compilation short.
    list(APPEND configure_args -DCMAKE_BUILD_TYPE=)
    run(${CMAKE_COMMAND} -S ${here}/subdir_consumer -B ${WORK_DIR}/build ${configure_args}
        -DLOCKNIX_SOURCE_DIR=${LOCKNIX_SOURCE_DIR} -DLOCKNIX_BUILD_CLI=OFF)
else()
    message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build ${config_args} --target consumer
    --parallel ${cores})
file(GLOB_RECURSE consumer LIST_DIRECTORIES false ${WORK_DIR}/build/consumer
     ${WORK_DIR}/build/*/consumer)
list(GET consumer 0 consumer)
run(${consumer} ${WORK_DIR}/consumer.lock)
if(EXISTS ${WORK_DIR}/consumer.lock)
    message(FATAL_ERROR "the consumer left its lock file behind")
endif()
