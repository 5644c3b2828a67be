"""The embedded local platform: a throwaway PostgreSQL cluster, the Tansu broker, the four services."""
