//! Zero-copy views of the base header and of every extension struct of
//! `linux/pfkeyv2.h`. Multi-byte fields are host order as on Linux, except
//! the SPI and ports, which are network order on the wire and host order
//! through these getters.

use super::field::view;

view! {
    /// `struct sadb_msg`, the 16-byte base header.
    SadbMsg, 16;
    /// `sadb_msg_version`.
    version, set_version: u8 = ne8 @ 0;
    /// `sadb_msg_type`.
    msg_type, set_msg_type: u8 = ne8 @ 1;
    /// `sadb_msg_errno`.
    errno, set_errno: u8 = ne8 @ 2;
    /// `sadb_msg_satype`.
    satype, set_satype: u8 = ne8 @ 3;
    /// `sadb_msg_len`, in 64-bit words.
    len, set_len: u16 = ne16 @ 4;
    /// `sadb_msg_reserved` (Linux puts a policy's refcount here in replies).
    reserved, set_reserved: u16 = ne16 @ 6;
    /// `sadb_msg_seq`.
    seq, set_seq: u32 = ne32 @ 8;
    /// `sadb_msg_pid`.
    pid, set_pid: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_ext`, the header every extension starts with.
    SadbExt, 4;
    /// `sadb_ext_len`, in 64-bit words.
    len, set_len: u16 = ne16 @ 0;
    /// `sadb_ext_type`.
    ext_type, set_ext_type: u16 = ne16 @ 2;
}

view! {
    /// `struct sadb_sa`.
    SadbSa, 16;
    /// `sadb_sa_spi` (network order on the wire).
    spi, set_spi: u32 = be32 @ 4;
    /// `sadb_sa_replay`.
    replay, set_replay: u8 = ne8 @ 8;
    /// `sadb_sa_state`.
    state, set_state: u8 = ne8 @ 9;
    /// `sadb_sa_auth`.
    auth, set_auth: u8 = ne8 @ 10;
    /// `sadb_sa_encrypt`.
    encrypt, set_encrypt: u8 = ne8 @ 11;
    /// `sadb_sa_flags`.
    flags, set_flags: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_lifetime`.
    SadbLifetime, 32;
    /// `sadb_lifetime_allocations`.
    allocations, set_allocations: u32 = ne32 @ 4;
    /// `sadb_lifetime_bytes`.
    bytes, set_bytes: u64 = ne64 @ 8;
    /// `sadb_lifetime_addtime`.
    addtime, set_addtime: u64 = ne64 @ 16;
    /// `sadb_lifetime_usetime`.
    usetime, set_usetime: u64 = ne64 @ 24;
}

view! {
    /// `struct sadb_address`; a sockaddr follows.
    SadbAddress, 8;
    /// `sadb_address_proto`.
    proto, set_proto: u8 = ne8 @ 4;
    /// `sadb_address_prefixlen`.
    prefixlen, set_prefixlen: u8 = ne8 @ 5;
    /// `sadb_address_reserved`.
    reserved, set_reserved: u16 = ne16 @ 6;
}

view! {
    /// `struct sadb_key`; the key bits follow.
    SadbKey, 8;
    /// `sadb_key_bits`.
    bits, set_bits: u16 = ne16 @ 4;
    /// `sadb_key_reserved`.
    reserved, set_reserved: u16 = ne16 @ 6;
}

view! {
    /// `struct sadb_ident`; a NUL-padded string follows.
    SadbIdent, 16;
    /// `sadb_ident_type`.
    ident_type, set_ident_type: u16 = ne16 @ 4;
    /// `sadb_ident_reserved`.
    reserved, set_reserved: u16 = ne16 @ 6;
    /// `sadb_ident_id`.
    id, set_id: u64 = ne64 @ 8;
}

view! {
    /// `struct sadb_sens`; the sensitivity then integrity bitmaps follow.
    SadbSens, 16;
    /// `sadb_sens_dpd`.
    dpd, set_dpd: u32 = ne32 @ 4;
    /// `sadb_sens_sens_level`.
    sens_level, set_sens_level: u8 = ne8 @ 8;
    /// `sadb_sens_sens_len`, in 64-bit words.
    sens_len, set_sens_len: u8 = ne8 @ 9;
    /// `sadb_sens_integ_level`.
    integ_level, set_integ_level: u8 = ne8 @ 10;
    /// `sadb_sens_integ_len`, in 64-bit words.
    integ_len, set_integ_len: u8 = ne8 @ 11;
    /// `sadb_sens_reserved`.
    reserved, set_reserved: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_prop`; `sadb_comb`s follow.
    SadbProp, 8;
    /// `sadb_prop_replay`.
    replay, set_replay: u8 = ne8 @ 4;
}

view! {
    /// `struct sadb_comb` (72 bytes).
    SadbComb, 72;
    /// `sadb_comb_auth`.
    auth, set_auth: u8 = ne8 @ 0;
    /// `sadb_comb_encrypt`.
    encrypt, set_encrypt: u8 = ne8 @ 1;
    /// `sadb_comb_flags`.
    flags, set_flags: u16 = ne16 @ 2;
    /// `sadb_comb_auth_minbits`.
    auth_minbits, set_auth_minbits: u16 = ne16 @ 4;
    /// `sadb_comb_auth_maxbits`.
    auth_maxbits, set_auth_maxbits: u16 = ne16 @ 6;
    /// `sadb_comb_encrypt_minbits`.
    encrypt_minbits, set_encrypt_minbits: u16 = ne16 @ 8;
    /// `sadb_comb_encrypt_maxbits`.
    encrypt_maxbits, set_encrypt_maxbits: u16 = ne16 @ 10;
    /// `sadb_comb_reserved`.
    reserved, set_reserved: u32 = ne32 @ 12;
    /// `sadb_comb_soft_allocations`.
    soft_allocations, set_soft_allocations: u32 = ne32 @ 16;
    /// `sadb_comb_hard_allocations`.
    hard_allocations, set_hard_allocations: u32 = ne32 @ 20;
    /// `sadb_comb_soft_bytes`.
    soft_bytes, set_soft_bytes: u64 = ne64 @ 24;
    /// `sadb_comb_hard_bytes`.
    hard_bytes, set_hard_bytes: u64 = ne64 @ 32;
    /// `sadb_comb_soft_addtime`.
    soft_addtime, set_soft_addtime: u64 = ne64 @ 40;
    /// `sadb_comb_hard_addtime`.
    hard_addtime, set_hard_addtime: u64 = ne64 @ 48;
    /// `sadb_comb_soft_usetime`.
    soft_usetime, set_soft_usetime: u64 = ne64 @ 56;
    /// `sadb_comb_hard_usetime`.
    hard_usetime, set_hard_usetime: u64 = ne64 @ 64;
}

view! {
    /// `struct sadb_supported`; `sadb_alg`s follow.
    SadbSupported, 8;
    /// `sadb_supported_reserved`.
    reserved, set_reserved: u32 = ne32 @ 4;
}

view! {
    /// `struct sadb_alg` (8 bytes).
    SadbAlg, 8;
    /// `sadb_alg_id`.
    id, set_id: u8 = ne8 @ 0;
    /// `sadb_alg_ivlen`.
    ivlen, set_ivlen: u8 = ne8 @ 1;
    /// `sadb_alg_minbits`.
    minbits, set_minbits: u16 = ne16 @ 2;
    /// `sadb_alg_maxbits`.
    maxbits, set_maxbits: u16 = ne16 @ 4;
    /// `sadb_alg_reserved`.
    reserved, set_reserved: u16 = ne16 @ 6;
}

view! {
    /// `struct sadb_spirange` (host-order SPIs, as Linux and KAME use them).
    SadbSpirange, 16;
    /// `sadb_spirange_min`.
    min, set_min: u32 = ne32 @ 4;
    /// `sadb_spirange_max`.
    max, set_max: u32 = ne32 @ 8;
    /// `sadb_spirange_reserved`.
    reserved, set_reserved: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_x_kmprivate`; opaque data follows.
    SadbXKmprivate, 8;
    /// `sadb_x_kmprivate_reserved`.
    reserved, set_reserved: u32 = ne32 @ 4;
}

view! {
    /// `struct sadb_x_sa2`.
    SadbXSa2, 16;
    /// `sadb_x_sa2_mode` (`IPSEC_MODE_*`).
    mode, set_mode: u8 = ne8 @ 4;
    /// `sadb_x_sa2_reserved1`.
    reserved1, set_reserved1: u8 = ne8 @ 5;
    /// `sadb_x_sa2_reserved2`.
    reserved2, set_reserved2: u16 = ne16 @ 6;
    /// `sadb_x_sa2_sequence`.
    sequence, set_sequence: u32 = ne32 @ 8;
    /// `sadb_x_sa2_reqid`.
    reqid, set_reqid: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_x_policy`; `sadb_x_ipsecrequest`s follow.
    SadbXPolicy, 16;
    /// `sadb_x_policy_type` (`IPSEC_POLICY_*`).
    policy_type, set_policy_type: u16 = ne16 @ 4;
    /// `sadb_x_policy_dir` (`IPSEC_DIR_*`).
    dir, set_dir: u8 = ne8 @ 6;
    /// `sadb_x_policy_reserved`.
    reserved, set_reserved: u8 = ne8 @ 7;
    /// `sadb_x_policy_id`.
    id, set_id: u32 = ne32 @ 8;
    /// `sadb_x_policy_priority`.
    priority, set_priority: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_x_ipsecrequest`; in tunnel mode (and in MIGRATE) a
    /// source and a destination sockaddr follow.
    SadbXIpsecrequest, 16;
    /// `sadb_x_ipsecrequest_len`, in bytes (not words).
    len, set_len: u16 = ne16 @ 0;
    /// `sadb_x_ipsecrequest_proto` (IP protocol number).
    proto, set_proto: u16 = ne16 @ 2;
    /// `sadb_x_ipsecrequest_mode`.
    mode, set_mode: u8 = ne8 @ 4;
    /// `sadb_x_ipsecrequest_level`.
    level, set_level: u8 = ne8 @ 5;
    /// `sadb_x_ipsecrequest_reserved1`.
    reserved1, set_reserved1: u16 = ne16 @ 6;
    /// `sadb_x_ipsecrequest_reqid`.
    reqid, set_reqid: u32 = ne32 @ 8;
    /// `sadb_x_ipsecrequest_reserved2`.
    reserved2, set_reserved2: u32 = ne32 @ 12;
}

view! {
    /// `struct sadb_x_nat_t_type`.
    SadbXNatTType, 8;
    /// `sadb_x_nat_t_type_type`.
    nat_type, set_nat_type: u8 = ne8 @ 4;
}

view! {
    /// `struct sadb_x_nat_t_port`.
    SadbXNatTPort, 8;
    /// `sadb_x_nat_t_port_port` (network order on the wire).
    port, set_port: u16 = be16 @ 4;
    /// `sadb_x_nat_t_port_reserved`.
    reserved, set_reserved: u16 = ne16 @ 6;
}

view! {
    /// `struct sadb_x_sec_ctx`; the context string follows.
    SadbXSecCtx, 8;
    /// `sadb_x_ctx_alg`.
    ctx_alg, set_ctx_alg: u8 = ne8 @ 4;
    /// `sadb_x_ctx_doi`.
    ctx_doi, set_ctx_doi: u8 = ne8 @ 5;
    /// `sadb_x_ctx_len`, in bytes.
    ctx_len, set_ctx_len: u16 = ne16 @ 6;
}

view! {
    /// `struct sadb_x_kmaddress`; a local and a remote sockaddr follow.
    SadbXKmaddress, 8;
    /// `sadb_x_kmaddress_reserved`.
    reserved, set_reserved: u32 = ne32 @ 4;
}

view! {
    /// `struct sadb_x_filter` (40 bytes).
    SadbXFilter, 40;
    /// `sadb_x_filter_saddr`.
    saddr, set_saddr: [u8; 16] = a16 @ 4;
    /// `sadb_x_filter_daddr`.
    daddr, set_daddr: [u8; 16] = a16 @ 20;
    /// `sadb_x_filter_family`.
    family, set_family: u16 = ne16 @ 36;
    /// `sadb_x_filter_splen`.
    splen, set_splen: u8 = ne8 @ 38;
    /// `sadb_x_filter_dplen`.
    dplen, set_dplen: u8 = ne8 @ 39;
}

view! {
    /// Linux `struct sockaddr_in` (16 bytes, no `sa_len`).
    SockaddrIn, 16;
    /// `sin_family`, host order.
    family, set_family: u16 = ne16 @ 0;
    /// `sin_port`.
    port, set_port: u16 = be16 @ 2;
    /// `sin_addr`.
    addr, set_addr: [u8; 4] = a4 @ 4;
}

view! {
    /// Linux `struct sockaddr_in6` (28 bytes, no `sa_len`).
    SockaddrIn6, 28;
    /// `sin6_family`, host order.
    family, set_family: u16 = ne16 @ 0;
    /// `sin6_port`.
    port, set_port: u16 = be16 @ 2;
    /// `sin6_flowinfo`.
    flowinfo, set_flowinfo: u32 = be32 @ 4;
    /// `sin6_addr`.
    addr, set_addr: [u8; 16] = a16 @ 8;
    /// `sin6_scope_id`.
    scope_id, set_scope_id: u32 = ne32 @ 24;
}

view! {
    /// rxfrm's per-SA error counters (`SADB_X_EXT_RXFRM_STATS`), as
    /// `ip -s xfrm state` shows Linux's.
    SadbXRxfrmStats, 24;
    /// Packets refused by the replay window (replayed or too old).
    replay, set_replay: u64 = ne64 @ 8;
    /// Packets whose ICV did not verify.
    integrity_failed, set_integrity_failed: u64 = ne64 @ 16;
}
