//! CenturyLink Cloud test account: API client and embedded emulator.
