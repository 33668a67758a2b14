//! shardslap-report (placeholder)
