//! [`Reassembler`]: rebuilds one UDP response from datagrams arriving in any order.
//!
//! One per UDP connection, created once; [`Reassembler::begin`] starts each request and reuses the
//! buffers, so after the first few requests nothing allocates. Payloads are stored by sequence
//! number and joined in order when all `total` have arrived; datagram sizes are never assumed.

use super::frame::FrameHeader;
use crate::error::ProtoError;

/// Default cap on datagrams per response (about 1.4 MB of payload at memcached's 1400 bytes).
pub const DEFAULT_MAX_DATAGRAMS: usize = 1024;

/// Default cap on the payload bytes of one response.
pub const DEFAULT_MAX_BYTES: usize = 4 << 20;

/// Where the reassembler is in the life of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No request outstanding (before the first `begin`, or after `abandon`).
    Idle,
    /// Waiting for datagrams of `request_id`.
    Collecting,
    /// All datagrams of `request_id` arrived; later ones are duplicates.
    Complete,
}

/// Collects the datagrams of the outstanding UDP request.
#[derive(Debug, Clone)]
pub struct Reassembler {
    /// Most datagrams one response may have.
    max_datagrams: usize,
    /// Most payload bytes one response may have.
    max_bytes: usize,
    /// Lifecycle of the current request.
    state: State,
    /// The request being collected (meaningful unless `Idle`).
    request_id: u16,
    /// Datagram count announced by the response; 0 until its first datagram arrives.
    total: u16,
    /// Distinct datagrams received for the current request.
    received: u16,
    /// True while every datagram arrived with `sequence == received`, so `arrived` is already
    /// the response in order and needs no second copy.
    in_order: bool,
    /// Per sequence number: `(offset, len)` of its payload in `arrived`, once received.
    slots: Vec<Option<(usize, usize)>>,
    /// Payloads in arrival order. Reused across requests.
    arrived: Vec<u8>,
    /// Payloads in sequence order, built only for out-of-order responses. Reused.
    assembled: Vec<u8>,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_DATAGRAMS, DEFAULT_MAX_BYTES)
    }
}

impl Reassembler {
    /// A reassembler accepting responses of up to `max_datagrams` datagrams and `max_bytes`
    /// payload bytes. It starts idle: call [`begin`](Self::begin) before each request.
    pub fn new(max_datagrams: usize, max_bytes: usize) -> Self {
        Self {
            max_datagrams,
            max_bytes,
            state: State::Idle,
            request_id: 0,
            total: 0,
            received: 0,
            in_order: true,
            slots: Vec::with_capacity(max_datagrams.min(usize::from(u16::MAX))),
            arrived: Vec::new(),
            assembled: Vec::new(),
        }
    }

    /// Starts collecting the response to `request_id`, forgetting any previous request.
    pub fn begin(&mut self, request_id: u16) {
        self.state = State::Collecting;
        self.request_id = request_id;
        self.total = 0;
        self.received = 0;
        self.in_order = true;
        self.slots.clear();
        self.arrived.clear();
        self.assembled.clear();
    }

    /// Gives up on the current request (e.g. after a timeout); every later datagram is refused
    /// with [`ProtoError::UdpNoRequest`] until the next [`begin`](Self::begin).
    pub fn abandon(&mut self) {
        self.state = State::Idle;
    }

    /// Adds one datagram (frame header included).
    ///
    /// Returns `Ok(Some(payload))`, the whole response in sequence order, when this datagram
    /// completes it, else `Ok(None)`.
    ///
    /// # Errors
    ///
    /// [`ProtoError::UdpFrameTooShort`] for a datagram under 8 bytes. All the others leave the
    /// state as it was, so the caller counts them and carries on:
    /// [`ProtoError::ForeignRequestId`] (late reply to an earlier request),
    /// [`ProtoError::UdpNoRequest`], [`ProtoError::UdpDuplicate`],
    /// [`ProtoError::UdpSequenceOutOfRange`], [`ProtoError::UdpTotalMismatch`] and
    /// [`ProtoError::UdpCapacityExceeded`].
    pub fn push(&mut self, datagram: &[u8]) -> Result<Option<&[u8]>, ProtoError> {
        let (header, payload) = FrameHeader::decode(datagram)?;
        let FrameHeader {
            request_id,
            sequence,
            total,
            ..
        } = header;
        match self.state {
            State::Idle => return Err(ProtoError::UdpNoRequest { got: request_id }),
            _ if request_id != self.request_id => {
                return Err(ProtoError::ForeignRequestId {
                    expected: self.request_id,
                    got: request_id,
                })
            }
            State::Complete => {
                return Err(ProtoError::UdpDuplicate {
                    request_id,
                    sequence,
                })
            }
            State::Collecting => {}
        }
        if self.total != 0 && total != self.total {
            return Err(ProtoError::UdpTotalMismatch {
                expected: self.total,
                got: total,
            });
        }
        if sequence >= total {
            return Err(ProtoError::UdpSequenceOutOfRange { sequence, total });
        }
        if usize::from(total) > self.max_datagrams {
            return Err(ProtoError::UdpCapacityExceeded {
                needed: usize::from(total),
                capacity: self.max_datagrams,
                unit: "datagrams",
            });
        }
        let needed_bytes = self.arrived.len() + payload.len();
        if needed_bytes > self.max_bytes {
            return Err(ProtoError::UdpCapacityExceeded {
                needed: needed_bytes,
                capacity: self.max_bytes,
                unit: "bytes",
            });
        }
        if self.total == 0 {
            self.total = total;
            self.slots.clear();
            self.slots.resize(usize::from(total), None);
        }
        let seq = usize::from(sequence);
        let Some(slot) = self.slots.get_mut(seq) else {
            // Unreachable: `sequence < total == slots.len()`; kept as an error, not a panic.
            return Err(ProtoError::UdpSequenceOutOfRange { sequence, total });
        };
        if slot.is_some() {
            return Err(ProtoError::UdpDuplicate {
                request_id,
                sequence,
            });
        }
        *slot = Some((self.arrived.len(), payload.len()));
        self.arrived.extend_from_slice(payload);
        self.in_order &= seq == usize::from(self.received);
        self.received += 1;
        if self.received < self.total {
            return Ok(None);
        }
        self.state = State::Complete;
        Ok(Some(self.join()))
    }

    /// The response in sequence order; only called once all datagrams arrived.
    fn join(&mut self) -> &[u8] {
        if self.in_order {
            return &self.arrived;
        }
        self.assembled.clear();
        for &(offset, len) in self.slots.iter().flatten() {
            self.assembled
                .extend_from_slice(&self.arrived[offset..offset + len]);
        }
        &self.assembled
    }

    /// The completed response again, if the current request is complete.
    pub fn response(&self) -> Option<&[u8]> {
        match (self.state, self.in_order) {
            (State::Complete, true) => Some(&self.arrived),
            (State::Complete, false) => Some(&self.assembled),
            _ => None,
        }
    }

    /// The request id being collected (meaningful after [`begin`](Self::begin)).
    pub fn request_id(&self) -> u16 {
        self.request_id
    }

    /// Distinct datagrams received for the current request.
    pub fn received(&self) -> u16 {
        self.received
    }

    /// Datagrams the current response consists of; 0 until its first datagram arrived.
    pub fn expected(&self) -> u16 {
        self.total
    }

    /// Datagrams still missing (`expected - received`); 0 while `expected` is unknown.
    pub fn missing(&self) -> u16 {
        self.total.saturating_sub(self.received)
    }

    /// True once every datagram of the current request arrived.
    pub fn is_complete(&self) -> bool {
        self.state == State::Complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::datagram;

    #[test]
    fn begin_reuses_buffers_without_reallocating() {
        let mut r = Reassembler::default();
        let run = |r: &mut Reassembler, id: u16| {
            r.begin(id);
            for seq in [2u16, 0, 1] {
                let _ = r.push(&datagram(id, seq, 3, &[seq as u8; 1392]));
            }
            assert!(r.is_complete());
        };
        run(&mut r, 1);
        let pointers = (r.slots.as_ptr(), r.arrived.as_ptr(), r.assembled.as_ptr());
        for id in 2..50 {
            run(&mut r, id);
        }
        assert_eq!(
            pointers,
            (r.slots.as_ptr(), r.arrived.as_ptr(), r.assembled.as_ptr())
        );
    }
}
