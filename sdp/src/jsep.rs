//! JSEP
