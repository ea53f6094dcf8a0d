"""Staff accounts: signing in and out, roles, the admin's accounts screen."""
