//! One connection's TLS session on the ring's data path: the ring moves ciphertext, the
//! connection sees plaintext. Received ciphertext lands in this layer's buffer and comes out
//! as plaintext appended to the connection's receive buffer; requests go in as plaintext and
//! come out as ciphertext for the ring to send. No socket here: rustls's buffered API on
//! byte slices.

use std::io::{self, Read, Write};

use bytes::{BufMut, BytesMut};
use rustls::ClientConnection;

/// Ciphertext received per ring receive: one full TLS record (16 KiB plus its header and
/// tag) fits.
const CIPHER_IN_LEN: usize = 17 << 10;

/// A TLS session and the buffer its ciphertext arrives in.
pub(crate) struct TlsLayer {
    session: ClientConnection,
    cipher_in: Box<[u8]>,
}

impl std::fmt::Debug for TlsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsLayer")
            .field("handshaking", &self.session.is_handshaking())
            .finish_non_exhaustive()
    }
}

impl TlsLayer {
    pub(crate) fn new(session: ClientConnection) -> TlsLayer {
        TlsLayer {
            session,
            cipher_in: vec![0; CIPHER_IN_LEN].into_boxed_slice(),
        }
    }

    /// Whether the handshake is still going on (no request may go out yet).
    pub(crate) fn is_handshaking(&self) -> bool {
        self.session.is_handshaking()
    }

    /// Whether ciphertext waits to be sent (a handshake flight, encrypted requests, alerts).
    pub(crate) fn wants_send(&self) -> bool {
        self.session.wants_write()
    }

    /// Where the ring may write received ciphertext. Valid until the receive's completion.
    pub(crate) fn recv_target(&mut self) -> (*mut u8, u32) {
        let len = u32::try_from(self.cipher_in.len()).unwrap_or(u32::MAX);
        (self.cipher_in.as_mut_ptr(), len)
    }

    /// Takes the `len` bytes of ciphertext the ring received and appends the plaintext they
    /// carry to `plain[*filled..]`, growing `plain` as needed; returns the plaintext length.
    ///
    /// # Errors
    /// The session's: a bad record, an alert from the server, a certificate refused.
    pub(crate) fn absorb(
        &mut self,
        len: usize,
        plain: &mut Vec<u8>,
        filled: &mut usize,
    ) -> Result<usize, rustls::Error> {
        let mut cipher = &self.cipher_in[..len];
        let mut produced = 0;
        while !cipher.is_empty() {
            // `read_tls` takes what its buffer has room for; decrypting makes room again.
            if self.session.read_tls(&mut cipher).is_err() {
                return Err(rustls::Error::General(
                    "TLS receive buffer overflow".to_owned(),
                ));
            }
            let state = self.session.process_new_packets()?;
            let mut available = state.plaintext_bytes_to_read();
            while available > 0 {
                if *filled == plain.len() {
                    let grown = (plain.len() * 2).max(available);
                    plain.resize(grown, 0);
                }
                match self.session.reader().read(&mut plain[*filled..]) {
                    Ok(0) => break,
                    Ok(n) => {
                        *filled += n;
                        produced += n;
                        available = available.saturating_sub(n);
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) => return Err(rustls::Error::General(err.to_string())),
                }
            }
        }
        Ok(produced)
    }

    /// Encrypts the requests in `plain` for sending.
    ///
    /// # Errors
    /// rustls refusing plaintext (a closed session).
    pub(crate) fn encrypt(&mut self, plain: &[u8]) -> io::Result<()> {
        self.session.writer().write_all(plain)
    }

    /// Moves the ciphertext waiting to go out to the end of `out`.
    pub(crate) fn take_ciphertext(&mut self, out: &mut BytesMut) {
        let mut writer = out.writer();
        while self.session.wants_write() {
            if self.session.write_tls(&mut writer).is_err() {
                break; // Writing into memory cannot fail.
            }
        }
    }
}
