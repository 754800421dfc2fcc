streams_add_test(remoterequest SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_remoterequest.cpp
    LIBRARIES streams_remote Qt6::Network)
