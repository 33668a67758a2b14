//! shardslap-proto (placeholder)
