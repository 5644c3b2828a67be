"""Publicity: public notices of scores, with personal data masked."""
