//! The tables, shared by both backends: every column uses a SQL type both SQLite and
//! PostgreSQL support, which is what lets one query code path serve both.

diesel::table! {
    printers (id) {
        id -> Text,
        name -> Text,
        printer_type -> Text,
        location -> Nullable<Text>,
        created_at -> Timestamp,
        connection -> Nullable<Text>,
        connection_secrets -> Nullable<Text>,
        tls_fingerprint -> Nullable<Text>,
        monitoring -> Bool,
    }
}

diesel::table! {
    /// The live status the monitor last wrote for each printer.
    printer_status (printer_id) {
        printer_id -> Text,
        status -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        job_name -> Text,
        status -> Text,
        is_business -> Bool,
        customer_name -> Nullable<Text>,
        notes -> Nullable<Text>,
        file_name -> Nullable<Text>,
        printer_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        auto_created -> Bool,
        discovery_time -> Nullable<Timestamp>,
        /// The domain's `SearchDocument` of the job (NULL only until the start-up fills it in).
        search_text -> Nullable<Text>,
        /// Collation sort keys of `job_name`, `customer_name`, `file_name`.
        name_key -> Nullable<Binary>,
        customer_key -> Nullable<Binary>,
        file_key -> Nullable<Binary>,
        /// The domain's `customer_fold` of `customer_name`, for the customers' autocomplete.
        customer_fold -> Nullable<Text>,
    }
}

diesel::table! {
    job_events (seq) {
        seq -> BigInt,
        kind -> Text,
        job_id -> Text,
        at -> Timestamp,
        actor -> Nullable<Text>,
        changes -> Text,
        job -> Text,
    }
}

diesel::table! {
    event_seq (id) {
        id -> Integer,
        last -> BigInt,
    }
}

diesel::table! {
    /// Jobs per (status, printer, business flag), kept by triggers; `printer_key` is '' for
    /// jobs without a printer.
    job_counts (status, printer_key, is_business) {
        status -> Text,
        printer_key -> Text,
        is_business -> Bool,
        n -> BigInt,
    }
}

diesel::table! {
    /// What monitoring remembers about each printer (the domain's `PrinterMemory`).
    printer_memory (printer_id) {
        printer_id -> Text,
        last_state -> Nullable<Text>,
        print_job_id -> Nullable<Text>,
        print_file -> Nullable<Text>,
        print_started_at -> Nullable<Timestamp>,
        job_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// The print each job monitoring created records (the domain's `TrackedPrint`).
    job_prints (job_id) {
        job_id -> Text,
        printer_id -> Text,
        printer_job_id -> Nullable<Text>,
        file -> Nullable<Text>,
        started_at -> Timestamp,
    }
}

diesel::table! {
    /// Which instance follows which printer.
    monitor_leases (printer_id) {
        printer_id -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// People who sign in.
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Signed-in browsers, by the digest of their session id.
    sessions (digest) {
        digest -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    /// API tokens of users, by id; looked up by the digest of the token.
    api_tokens (id) {
        id -> Text,
        digest -> Text,
        name -> Text,
        role -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Failed sign-ins per throttle key.
    sign_in_failures (throttle_key) {
        throttle_key -> Text,
        failures -> BigInt,
        last_failure -> Timestamp,
    }
}

diesel::joinable!(jobs -> printers (printer_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(printer_status -> printers (printer_id));
diesel::allow_tables_to_appear_in_same_query!(
    printers,
    printer_status,
    jobs,
    job_events,
    event_seq,
    job_counts,
    printer_memory,
    job_prints,
    monitor_leases,
    users,
    sessions,
    api_tokens,
    sign_in_failures
);
