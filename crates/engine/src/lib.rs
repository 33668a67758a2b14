//! shardslap-engine (placeholder)
