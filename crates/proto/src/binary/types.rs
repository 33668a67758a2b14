//! Binary protocol vocabulary: header constants, [`Opcode`] and [`Status`].

use crate::error::ProtoError;

/// Length of every request and response header, in bytes.
pub const HEADER_LEN: usize = 24;

/// First byte of a request.
pub const REQUEST_MAGIC: u8 = 0x80;

/// First byte of a response.
pub const RESPONSE_MAGIC: u8 = 0x81;

/// The binary commands shardslap sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    /// Get a value; a miss is answered.
    Get = 0x00,
    /// Store unconditionally.
    Set = 0x01,
    /// Store only if absent.
    Add = 0x02,
    /// Store only if present.
    Replace = 0x03,
    /// Delete a key.
    Delete = 0x04,
    /// Increment a counter.
    Increment = 0x05,
    /// Decrement a counter.
    Decrement = 0x06,
    /// Quiet get: a miss is not answered.
    GetQ = 0x09,
    /// No-op; answered after all earlier requests (ends a quiet batch).
    Noop = 0x0a,
    /// Server version.
    Version = 0x0b,
    /// Get that echoes the key.
    GetK = 0x0c,
    /// Quiet get that echoes the key.
    GetKQ = 0x0d,
    /// Update a key's expiration.
    Touch = 0x1c,
}

impl Opcode {
    /// The opcode byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// True for `Get`, `GetQ`, `GetK` and `GetKQ`.
    pub fn is_get(self) -> bool {
        matches!(self, Self::Get | Self::GetQ | Self::GetK | Self::GetKQ)
    }
}

impl TryFrom<u8> for Opcode {
    type Error = ProtoError;

    fn try_from(byte: u8) -> Result<Self, ProtoError> {
        Ok(match byte {
            0x00 => Self::Get,
            0x01 => Self::Set,
            0x02 => Self::Add,
            0x03 => Self::Replace,
            0x04 => Self::Delete,
            0x05 => Self::Increment,
            0x06 => Self::Decrement,
            0x09 => Self::GetQ,
            0x0a => Self::Noop,
            0x0b => Self::Version,
            0x0c => Self::GetK,
            0x0d => Self::GetKQ,
            0x1c => Self::Touch,
            opcode => return Err(ProtoError::UnknownOpcode { opcode }),
        })
    }
}

impl From<Opcode> for u8 {
    fn from(opcode: Opcode) -> u8 {
        opcode as u8
    }
}

/// The status field of a response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `0x0000`: success (a hit, for gets).
    NoError,
    /// `0x0001`: key not found (a miss, for gets).
    KeyNotFound,
    /// `0x0002`: key exists (cas mismatch, add on a present key).
    KeyExists,
    /// `0x0003`: value too large.
    ValueTooLarge,
    /// `0x0004`: invalid arguments.
    InvalidArguments,
    /// `0x0005`: item not stored.
    ItemNotStored,
    /// `0x0006`: incr/decr on a non-numeric value.
    NonNumeric,
    /// `0x0081`: unknown command.
    UnknownCommand,
    /// `0x0082`: out of memory.
    OutOfMemory,
    /// Any other code.
    Other(u16),
}

impl Status {
    /// Maps the wire code.
    pub fn from_u16(code: u16) -> Self {
        match code {
            0x0000 => Self::NoError,
            0x0001 => Self::KeyNotFound,
            0x0002 => Self::KeyExists,
            0x0003 => Self::ValueTooLarge,
            0x0004 => Self::InvalidArguments,
            0x0005 => Self::ItemNotStored,
            0x0006 => Self::NonNumeric,
            0x0081 => Self::UnknownCommand,
            0x0082 => Self::OutOfMemory,
            other => Self::Other(other),
        }
    }

    /// The wire code.
    pub fn as_u16(self) -> u16 {
        match self {
            Self::NoError => 0x0000,
            Self::KeyNotFound => 0x0001,
            Self::KeyExists => 0x0002,
            Self::ValueTooLarge => 0x0003,
            Self::InvalidArguments => 0x0004,
            Self::ItemNotStored => 0x0005,
            Self::NonNumeric => 0x0006,
            Self::UnknownCommand => 0x0081,
            Self::OutOfMemory => 0x0082,
            Self::Other(code) => code,
        }
    }

    /// True only for `KeyNotFound`: the one status that means "miss".
    pub fn is_miss(self) -> bool {
        self == Self::KeyNotFound
    }

    /// True for `NoError`.
    pub fn is_success(self) -> bool {
        self == Self::NoError
    }
}

impl From<u16> for Status {
    fn from(code: u16) -> Self {
        Self::from_u16(code)
    }
}
