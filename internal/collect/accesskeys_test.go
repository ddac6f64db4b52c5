package collect

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func listed(id, status, created string) types.AccessKeyMetadata {
	return types.AccessKeyMetadata{AccessKeyId: aws.String(id), Status: types.StatusType(status), CreateDate: at(created), UserName: aws.String("alice")}
}

func TestMatchReportSlots(t *testing.T) {
	older, newer := "2021-03-01T00:00:00Z", "2022-01-01T00:00:00Z"
	used := at("2024-04-30T12:00:00Z")
	slot1 := reportKey{Active: true, LastRotated: at(older), LastUsed: used, LastUsedRegion: "eu-west-1", LastUsedService: "s3"}
	slot2 := reportKey{Active: false, LastRotated: at(newer)}
	tests := []struct {
		name   string
		listed []types.AccessKeyMetadata
		row    *reportRow
		want   []accessKey
	}{
		{
			name:   "matched by creation time whatever the listing order",
			listed: []types.AccessKeyMetadata{listed("AKIANEW", "Inactive", newer), listed("AKIAOLD", "Active", older)},
			row:    &reportRow{Keys: [2]reportKey{slot1, slot2}},
			want: []accessKey{
				{User: "alice", ID: "AKIAOLD", Slot: 1, Status: "Active", CreatedAt: at(older), LastRotated: at(older), LastUsed: used, LastUsedRegion: "eu-west-1", LastUsedService: "s3"},
				{User: "alice", ID: "AKIANEW", Slot: 2, Status: "Inactive", CreatedAt: at(newer), LastRotated: at(newer)},
			},
		},
		{
			name:   "slot 2 may hold the older key",
			listed: []types.AccessKeyMetadata{listed("AKIAOLD", "Inactive", older), listed("AKIANEW", "Active", newer)},
			row:    &reportRow{Keys: [2]reportKey{{Active: true, LastRotated: at(newer)}, {LastRotated: at(older), LastUsed: used, LastUsedService: "iam", LastUsedRegion: "us-east-1"}}},
			want: []accessKey{
				{User: "alice", ID: "AKIAOLD", Slot: 2, Status: "Inactive", CreatedAt: at(older), LastRotated: at(older), LastUsed: used, LastUsedRegion: "us-east-1", LastUsedService: "iam"},
				{User: "alice", ID: "AKIANEW", Slot: 1, Status: "Active", CreatedAt: at(newer), LastRotated: at(newer)},
			},
		},
		{
			name:   "a key newer than the report is in no slot",
			listed: []types.AccessKeyMetadata{listed("AKIAOLD", "Active", older), listed("AKIAROTATED", "Active", "2024-05-01T00:00:00Z")},
			row:    &reportRow{Keys: [2]reportKey{slot1, slot2}},
			want: []accessKey{
				{User: "alice", ID: "AKIAOLD", Slot: 1, Status: "Active", CreatedAt: at(older), LastRotated: at(older), LastUsed: used, LastUsedRegion: "eu-west-1", LastUsedService: "s3"},
				{User: "alice", ID: "AKIAROTATED", Status: "Active", CreatedAt: at("2024-05-01T00:00:00Z"), LastRotated: at("2024-05-01T00:00:00Z")},
			},
		},
		{
			name:   "sub-second creation times match the report's seconds",
			listed: []types.AccessKeyMetadata{{AccessKeyId: aws.String("AKIAOLD"), Status: "Active", CreateDate: aws.Time(at(older).Add(250 * time.Millisecond))}},
			row:    &reportRow{Keys: [2]reportKey{slot1, {}}},
			want: []accessKey{
				{User: "alice", ID: "AKIAOLD", Slot: 1, Status: "Active", CreatedAt: aws.Time(at(older).Add(250 * time.Millisecond)), LastRotated: aws.Time(at(older).Add(250 * time.Millisecond)), LastUsed: used, LastUsedRegion: "eu-west-1", LastUsedService: "s3"},
			},
		},
		{
			name:   "no report row",
			listed: []types.AccessKeyMetadata{listed("AKIAOLD", "Active", older)},
			want:   []accessKey{{User: "alice", ID: "AKIAOLD", Status: "Active", CreatedAt: at(older), LastRotated: at(older)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := matchReportSlots("alice", tc.listed, tc.row)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestSlotKeys(t *testing.T) {
	row := &reportRow{Keys: [2]reportKey{{}, {Active: false, LastRotated: at("2022-01-01T00:00:00Z"), LastUsedService: "s3"}}}
	got := slotKeys("bob", row)
	want := []accessKey{{User: "bob", Slot: 2, Status: "Inactive", LastRotated: at("2022-01-01T00:00:00Z"), LastUsedService: "s3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
