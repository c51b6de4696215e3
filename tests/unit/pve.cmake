# /etc/pve (pmxcfs) parsers and the "cluster" collector: the parsers on inline
# text, the collector on the tests/fixtures/pve7*, pve-* trees and on
# temporary trees it watches change.
pvescope_unit_test(test_pve_parsers SOURCES test_pve_parsers.c LIBS pvescope_agent_core)
pvescope_unit_test(test_pve_cluster SOURCES test_pve_cluster.c LIBS pvescope_agent_core)
