// Package collect reads AWS sources into warden's access graph. Each source
// has its own file (iam.go first) that fetches with the fewest calls the
// source allows and transforms what it read into model values, in small
// functions named for their step (getAuthorizationDetails, transformUsers,
// grantGroupMemberships, …), after Cartography's IAM module. Nothing here
// stores or prints: the syncer commits what a collector returns.
package collect
