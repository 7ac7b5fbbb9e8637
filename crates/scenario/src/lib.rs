//! Scenario files, clusters, workload, faults and reports (see the crate's issue).
