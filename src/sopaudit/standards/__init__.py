"""Time standards and roles: step and case times against the SOP's standards in working days
(`timing`), who may do a step and the four-eyes rule (`roles`)."""
