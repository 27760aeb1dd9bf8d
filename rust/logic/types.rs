//! Enumerations shared by PF_KEY, the SPD and the SAD. Discriminants are the
//! PF_KEY/KAME wire values (`linux/pfkeyv2.h`, `linux/ipsec.h`), so converting
//! between the codec and the tables is a plain `from_u8`/`as u8`.

/// Generates `from_u8` for a fieldless `#[repr(u8)]` enum.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $n:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[repr(u8)]
        pub enum $name { $($(#[$vm])* $v = $n),* }

        impl $name {
            /// The variant with wire value `n`, if any.
            pub fn from_u8(n: u8) -> Option<Self> {
                match n { $($n => Some($name::$v),)* _ => None }
            }
        }
    };
}

wire_enum! {
    /// Policy direction (`IPSEC_DIR_*`, Linux numbering).
    Dir { Inbound = 1, Outbound = 2, Forward = 3 }
}

wire_enum! {
    /// What a policy does with matching traffic (`IPSEC_POLICY_*`).
    Action { Discard = 0, None = 1, Ipsec = 2, Entrust = 3, Bypass = 4 }
}

wire_enum! {
    /// IPsec transform protocol, as its IP protocol number.
    IpsecProto { Ah = 51, Esp = 50, IpComp = 108 }
}

wire_enum! {
    /// Encapsulation mode (`IPSEC_MODE_*`).
    Mode { Any = 0, Transport = 1, Tunnel = 2 }
}

wire_enum! {
    /// Template level (`IPSEC_LEVEL_*`).
    Level { Default = 0, Use = 1, Require = 2, Unique = 3 }
}

wire_enum! {
    /// SA life-cycle state (`SADB_SASTATE_*`).
    SaState { Larval = 0, Mature = 1, Dying = 2, Dead = 3 }
}

impl IpsecProto {
    /// PF_KEY SA type (`SADB_SATYPE_AH`, `_ESP`, `SADB_X_SATYPE_IPCOMP`).
    pub fn satype(self) -> u8 {
        match self {
            IpsecProto::Ah => 2,
            IpsecProto::Esp => 3,
            IpsecProto::IpComp => 9,
        }
    }

    /// The protocol a PF_KEY SA type names.
    pub fn from_satype(satype: u8) -> Option<Self> {
        match satype {
            2 => Some(IpsecProto::Ah),
            3 => Some(IpsecProto::Esp),
            9 => Some(IpsecProto::IpComp),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for n in 0..=255u8 {
            if let Some(d) = Dir::from_u8(n) {
                assert_eq!(d as u8, n);
            }
            if let Some(p) = IpsecProto::from_satype(n) {
                assert_eq!(p.satype(), n);
            }
        }
        assert_eq!(Dir::from_u8(0), None);
        assert_eq!(Level::from_u8(3), Some(Level::Unique));
        assert_eq!(IpsecProto::from_u8(108), Some(IpsecProto::IpComp));
    }
}
