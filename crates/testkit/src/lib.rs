//! shardslap-testkit (placeholder)
