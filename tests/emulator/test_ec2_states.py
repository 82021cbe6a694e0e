"""EC2 instance states for tests that need a wait to last: moto moves instances to running at
once, so an instance tagged awsmfa-emulator-stuck=STATE keeps reporting STATE."""


def test_an_instance_tagged_stuck_keeps_reporting_that_state(admin, image_id):
    ec2 = admin("ec2")
    tag = {"ResourceType": "instance", "Tags": [{"Key": "awsmfa-emulator-stuck", "Value": "pending"}]}
    stuck = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1,
                              TagSpecifications=[tag])["Instances"][0]["InstanceId"]
    plain = ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    answer = ec2.describe_instances(InstanceIds=[stuck, plain])
    states = {i["InstanceId"]: (i["State"]["Name"], i["State"]["Code"])
              for r in answer["Reservations"] for i in r["Instances"]}
    assert states == {stuck: ("pending", 0), plain: ("running", 16)}
