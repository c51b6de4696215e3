# collector unit tests (agent/*.c parsers on fixtures)
# Host /proc collectors: the pure parsers on inline text, and the collectors
# themselves on the tests/fixtures/{host1,host2,edge} trees (see
# tests/fixtures/edge/README.md). Paths are relative to tests/unit.
pvescope_unit_test(test_proc_stat  SOURCES test_proc_stat.c  LIBS pvescope_agent_core)
pvescope_unit_test(test_meminfo    SOURCES test_meminfo.c    LIBS pvescope_agent_core)
pvescope_unit_test(test_proc_small SOURCES test_proc_small.c LIBS pvescope_agent_core)
pvescope_unit_test(test_pressure   SOURCES test_pressure.c   LIBS pvescope_agent_core)
pvescope_unit_test(test_diskstats  SOURCES test_diskstats.c  LIBS pvescope_agent_core)
pvescope_unit_test(test_netdev     SOURCES test_netdev.c     LIBS pvescope_agent_core)
# dm-thin: the status/table parsers and name splitter, the thinpool collector
# on canned dm ioctl replies and on this machine's real control device, and the
# pve_thinpool_* rendering.
pvescope_unit_test(test_thinpool_parsers SOURCES test_thinpool_parsers.c LIBS pvescope_agent_core)
pvescope_unit_test(test_thinpool SOURCES test_thinpool.c LIBS pvescope_agent_core)
