//! `kantlijn import disqus`: a Disqus export.
