//! shardslap-workload (placeholder)
