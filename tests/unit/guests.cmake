# Guest runtime collector (agent/guests.c): its parsers on inline text, and
# the collector on the tests/fixtures/guests/{t0,t1,edge} snapshots of a node
# (see tests/fixtures/guests/README.md).
pvescope_unit_test(test_guests_parsers SOURCES test_guests_parsers.c LIBS pvescope_agent_core)
pvescope_unit_test(test_guests         SOURCES test_guests.c         LIBS pvescope_agent_core)
target_link_libraries(test_guests PRIVATE m)
