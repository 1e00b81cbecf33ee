// SPDX-License-Identifier: GPL-2.0

//! One serial port as mtty emulates it: the eight registers of a 16550 UART
//! whose transmitter loops back into its own receive FIFO.
//!
//! What a guest sees, register by register (offsets in the port's BAR):
//!
//! | offset | read                          | write                           |
//! |--------|-------------------------------|---------------------------------|
//! | 0      | RBR: next FIFO byte; DLL      | THR: into the FIFO; DLL         |
//! | 1      | IER (low 4 bits); DLM         | IER; DLM                        |
//! | 2      | IIR: pending causes, `0xc0`   | FCR: FIFO enable and clear      |
//! | 3      | LCR                           | LCR, bit 7 selects the divisor  |
//! | 4      | MCR                           | MCR                             |
//! | 5      | LSR: DR, OE, THRE and TEMT    | ignored                         |
//! | 6      | MSR: DCD, DSR, CTS            | ignored                         |
//! | 7      | SCR                           | SCR                             |
//!
//! The behaviour follows the C mtty sample as a guest observes it, quirks
//! included (an empty FIFO is told by its two indexes being equal, so a full
//! one looks empty too; the receive trigger level is 0 until the first FCR
//! write), so that both answer a client the same way.

use kernel::prelude::*;

/// Register offsets.
pub(crate) const RBR_THR: u8 = 0;
pub(crate) const IER: u8 = 1;
pub(crate) const IIR_FCR: u8 = 2;
pub(crate) const LCR: u8 = 3;
pub(crate) const MCR: u8 = 4;
pub(crate) const LSR: u8 = 5;
pub(crate) const MSR: u8 = 6;
pub(crate) const SCR: u8 = 7;

/// IER: interrupt on received data, THR empty, line status, modem status.
const IER_RDI: u8 = 0x01;
const IER_THRI: u8 = 0x02;
const IER_RLSI: u8 = 0x04;
const IER_MSI: u8 = 0x08;
/// IIR: no interrupt pending; causes; bits a 16550 always shows.
const IIR_NO_INT: u8 = 0x01;
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_RLSI: u8 = 0x06;
const IIR_FIFO_BITS: u8 = 0xc0;
/// FCR: enable the FIFO; clear the receive and transmit FIFOs.
const FCR_ENABLE_FIFO: u8 = 0x01;
const FCR_CLEAR: u8 = 0x02 | 0x04;
/// LCR: divisor latch access.
const LCR_DLAB: u8 = 0x80;
/// MCR: DTR, RTS, OUT2, auto flow control.
const MCR_DTR_RTS: u8 = 0x01 | 0x02;
const MCR_OUT2: u8 = 0x08;
const MCR_AFE: u8 = 0x20;
/// LSR: data ready, overrun, THR empty, transmitter empty.
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;
/// MSR: delta CTS, delta DSR, CTS, DSR, DCD.
const MSR_DCTS: u8 = 0x01;
const MSR_DDSR: u8 = 0x02;
const MSR_CTS: u8 = 0x10;
const MSR_DSR: u8 = 0x20;
const MSR_DCD: u8 = 0x80;

/// Bytes the FIFO holds when enabled.
const FIFO_SIZE: u8 = 16;

/// One emulated port.
pub(crate) struct SerialPort {
    /// IER, LCR, MCR and SCR as last written (indexed by offset).
    regs: [u8; 8],
    fifo: [u8; FIFO_SIZE as usize],
    head: u8,
    tail: u8,
    count: u8,
    dlab: bool,
    overrun: bool,
    divisor: u16,
    /// FCR as last written.
    fcr: u8,
    fifo_size: u8,
    trigger_level: u8,
}

/// Bytes of one port in a migration stream.
pub(crate) const SAVED_SIZE: usize = 36;

impl SerialPort {
    /// A port as a new device has it.
    pub(crate) const fn new() -> Self {
        Self {
            regs: [0; 8],
            fifo: [0; FIFO_SIZE as usize],
            head: 0,
            tail: 0,
            count: 0,
            dlab: false,
            overrun: false,
            divisor: 0,
            fcr: 0,
            fifo_size: FIFO_SIZE,
            trigger_level: 0,
        }
    }

    fn looks_empty(&self) -> bool {
        self.head == self.tail
    }

    fn ier(&self) -> u8 {
        self.regs[IER as usize]
    }

    /// A guest writes `value` to register `reg`; returns how many
    /// interrupts the write raises.
    /// Inlined into the device's access (its one caller).
    #[inline]
    pub(crate) fn write(&mut self, reg: u8, value: u8) -> u32 {
        match reg {
            RBR_THR if self.dlab => self.divisor |= u16::from(value),
            RBR_THR if self.count < self.fifo_size => {
                self.fifo[usize::from(self.head)] = value;
                self.count += 1;
                self.head = (self.head + 1) % FIFO_SIZE;
                self.overrun = false;
                return u32::from(self.ier() & IER_RDI != 0 && self.count == self.trigger_level);
            }
            RBR_THR => {
                self.overrun = true;
                return u32::from(self.ier() & IER_RLSI != 0);
            }
            IER if self.dlab => self.divisor |= u16::from(value) << 8,
            IER => {
                self.regs[usize::from(IER)] = value;
                return u32::from(value & IER_THRI != 0 && self.looks_empty());
            }
            IIR_FCR => {
                self.fcr = value;
                if value & FCR_CLEAR != 0 {
                    (self.count, self.head, self.tail) = (0, 0, 0);
                }
                // Whatever level is asked for, a byte is enough: there is
                // no receive timeout to deliver the rest.
                self.trigger_level = 1;
                self.fifo_size = if value & FCR_ENABLE_FIFO != 0 {
                    FIFO_SIZE
                } else {
                    1
                };
            }
            LCR => {
                self.dlab = value & LCR_DLAB != 0;
                if self.dlab {
                    self.divisor = 0;
                }
                self.regs[usize::from(LCR)] = value;
            }
            MCR => {
                self.regs[usize::from(MCR)] = value;
                if self.ier() & IER_MSI != 0 {
                    return u32::from(value & MCR_OUT2 != 0) + u32::from(value & MCR_DTR_RTS != 0);
                }
            }
            SCR => self.regs[usize::from(SCR)] = value,
            _ => {}
        }
        0
    }

    /// A guest reads register `reg`; returns its value and how many
    /// interrupts the read raises.
    /// Inlined into the device's access (its one caller).
    #[inline]
    pub(crate) fn read(&mut self, reg: u8) -> (u8, u32) {
        let value = match reg {
            RBR_THR if self.dlab => self.divisor.to_le_bytes()[0],
            RBR_THR => {
                let mut value = 0;
                if !self.looks_empty() {
                    value = self.fifo[usize::from(self.tail)];
                    self.count -= 1;
                    self.tail = (self.tail + 1) % FIFO_SIZE;
                }
                let drained = self.looks_empty() && self.ier() & IER_THRI != 0;
                return (value, u32::from(drained));
            }
            IER if self.dlab => self.divisor.to_le_bytes()[1],
            IER => self.ier() & 0x0f,
            IIR_FCR => self.iir(),
            LCR | MCR | SCR => self.regs[usize::from(reg)],
            LSR => {
                let mut lsr = 0;
                if !self.looks_empty() {
                    lsr |= LSR_DR;
                }
                if self.overrun {
                    lsr |= LSR_OE;
                }
                if self.looks_empty() {
                    lsr |= LSR_TEMT | LSR_THRE;
                }
                lsr
            }
            MSR => {
                let room =
                    self.regs[usize::from(MCR)] & MCR_AFE == 0 || self.count < self.fifo_size;
                MSR_DSR | MSR_DDSR | MSR_DCD | if room { MSR_CTS | MSR_DCTS } else { 0 }
            }
            _ => 0,
        };
        (value, 0)
    }

    /// The port as a migration stream holds it, in the layout the C mtty
    /// sample's stream has (observed through its data fd): the eight
    /// registers, the FIFO, its head, tail and count, DLAB and overrun, a
    /// zero byte, the divisor (little endian), FCR, the FIFO size, the
    /// trigger level and a zero byte.
    pub(crate) fn save(&self) -> [u8; SAVED_SIZE] {
        let mut out = [0u8; SAVED_SIZE];
        out[0..8].copy_from_slice(&self.regs);
        out[8..24].copy_from_slice(&self.fifo);
        out[24] = self.head;
        out[25] = self.tail;
        out[26] = self.count;
        out[27] = u8::from(self.dlab);
        out[28] = u8::from(self.overrun);
        out[30..32].copy_from_slice(&self.divisor.to_le_bytes());
        out[32] = self.fcr;
        out[33] = self.fifo_size;
        out[34] = self.trigger_level;
        out
    }

    /// A port from the bytes [`Self::save`] gives, or `EINVAL` if they hold
    /// a state no port can be in (an index out of the FIFO, more bytes than
    /// it holds, a flag that is neither 0 nor 1).
    pub(crate) fn load(bytes: &[u8]) -> Result<Self> {
        let bytes: &[u8; SAVED_SIZE] = bytes.try_into().map_err(|_| EINVAL)?;
        let flag = |b: u8| match b {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(EINVAL),
        };
        let mut regs = [0u8; 8];
        regs.copy_from_slice(&bytes[0..8]);
        let mut fifo = [0u8; FIFO_SIZE as usize];
        fifo.copy_from_slice(&bytes[8..24]);
        let port = Self {
            regs,
            fifo,
            head: bytes[24],
            tail: bytes[25],
            count: bytes[26],
            dlab: flag(bytes[27])?,
            overrun: flag(bytes[28])?,
            divisor: u16::from_le_bytes([bytes[30], bytes[31]]),
            fcr: bytes[32],
            fifo_size: bytes[33],
            trigger_level: bytes[34],
        };
        if port.head >= FIFO_SIZE
            || port.tail >= FIFO_SIZE
            || port.count > FIFO_SIZE
            || !(port.fifo_size == 1 || port.fifo_size == FIFO_SIZE)
            || port.trigger_level > FIFO_SIZE
        {
            return Err(EINVAL);
        }
        Ok(port)
    }

    /// IIR: the causes pending, each only if enabled in IER. A modem status
    /// cause has the code 0, which cannot be told from none, so it reads as
    /// "no interrupt pending".
    fn iir(&self) -> u8 {
        let ier = self.ier();
        let mut iir = 0;
        if ier & IER_RLSI != 0 && self.overrun {
            iir |= IIR_RLSI;
        }
        if ier & IER_RDI != 0 && self.count >= self.trigger_level {
            iir |= IIR_RDI;
        }
        if ier & IER_THRI != 0 && self.looks_empty() {
            iir |= IIR_THRI;
        }
        if iir == 0 {
            iir = IIR_NO_INT;
        }
        iir | IIR_FIFO_BITS
    }
}

#[kunit_tests(mtty_rs_serial)]
mod tests {
    use super::*;

    #[test]
    fn bytes_loop_back_in_order() {
        let mut port = SerialPort::new();
        assert_eq!(port.read(LSR).0, LSR_TEMT | LSR_THRE);
        port.write(RBR_THR, b'a');
        port.write(RBR_THR, b'b');
        assert_eq!(port.read(LSR).0, LSR_DR);
        assert_eq!(port.read(RBR_THR).0, b'a');
        assert_eq!(port.read(RBR_THR).0, b'b');
        assert_eq!(port.read(LSR).0, LSR_TEMT | LSR_THRE);
    }

    #[test]
    fn a_full_fifo_overruns() {
        let mut port = SerialPort::new();
        port.write(IER, IER_RLSI);
        for byte in 0..FIFO_SIZE {
            assert_eq!(port.write(RBR_THR, byte), 0);
        }
        assert_eq!(port.write(RBR_THR, 0xff), 1);
        // Full, the FIFO's indexes meet as if it were empty.
        assert_eq!(port.read(LSR).0, LSR_OE | LSR_TEMT | LSR_THRE);
        assert_eq!(port.read(IIR_FCR).0, IIR_RLSI | IIR_FIFO_BITS);
    }

    #[test]
    fn received_data_interrupt_needs_a_trigger_level() {
        let mut port = SerialPort::new();
        port.write(IER, IER_RDI);
        assert_eq!(port.write(RBR_THR, 1), 0);
        port.write(IIR_FCR, FCR_ENABLE_FIFO | FCR_CLEAR);
        assert_eq!(port.write(RBR_THR, 1), 1);
        assert_eq!(port.write(RBR_THR, 2), 0);
        assert_eq!(port.read(IIR_FCR).0, IIR_RDI | IIR_FIFO_BITS);
    }

    #[test]
    fn fifo_disabled_holds_one_byte() {
        let mut port = SerialPort::new();
        port.write(IIR_FCR, 0);
        port.write(RBR_THR, 1);
        port.write(RBR_THR, 2);
        assert_eq!(port.read(LSR).0 & LSR_OE, LSR_OE);
        assert_eq!(port.read(RBR_THR).0, 1);
    }

    #[test]
    fn divisor_latch() {
        let mut port = SerialPort::new();
        port.write(LCR, LCR_DLAB | 0x03);
        port.write(RBR_THR, 0x0c);
        port.write(IER, 0x01);
        assert_eq!(port.read(RBR_THR).0, 0x0c);
        assert_eq!(port.read(IER).0, 0x01);
        port.write(LCR, 0x03);
        assert_eq!(port.read(IER).0, 0);
        assert_eq!(port.read(LSR).0, LSR_TEMT | LSR_THRE);
    }

    #[test]
    fn draining_the_fifo_raises_thr_empty() {
        let mut port = SerialPort::new();
        port.write(RBR_THR, 1);
        assert_eq!(port.write(IER, IER_THRI), 0);
        assert_eq!(port.read(RBR_THR), (1, 1));
        assert_eq!(port.write(IER, IER_THRI), 1);
    }

    #[test]
    fn saved_state_loads_back() -> Result {
        let mut port = SerialPort::new();
        port.write(IIR_FCR, FCR_ENABLE_FIFO | FCR_CLEAR);
        port.write(LCR, LCR_DLAB);
        port.write(RBR_THR, 0x0c);
        port.write(LCR, 0x03);
        port.write(RBR_THR, b'x');
        let saved = port.save();
        assert_eq!(saved[30], 0x0c);
        assert_eq!(saved[32], FCR_ENABLE_FIFO | FCR_CLEAR);
        let mut back = SerialPort::load(&saved)?;
        assert_eq!(back.save(), saved);
        assert_eq!(back.read(RBR_THR).0, b'x');
        let mut bad = saved;
        bad[24] = FIFO_SIZE;
        assert!(SerialPort::load(&bad).is_err());
        assert!(SerialPort::load(&saved[1..]).is_err());
        Ok(())
    }

    #[test]
    fn modem_control_and_status() {
        let mut port = SerialPort::new();
        port.write(IER, IER_MSI);
        assert_eq!(port.write(MCR, MCR_OUT2 | MCR_DTR_RTS), 2);
        assert_eq!(port.read(IIR_FCR).0, IIR_NO_INT | IIR_FIFO_BITS);
        assert_eq!(port.read(MSR).0, 0xb3);
        port.write(MCR, MCR_AFE);
        port.write(IIR_FCR, 0);
        port.write(RBR_THR, 1);
        assert_eq!(port.read(MSR).0, MSR_DSR | MSR_DDSR | MSR_DCD);
    }
}
