//! shardslap-config (placeholder)
