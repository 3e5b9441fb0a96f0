//! `kantlijn import kantlijn`: a whole site from `kantlijn export`.
