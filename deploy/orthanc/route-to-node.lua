-- The demo PACS's routing rule: a stable MR series of the lumbar spine goes to the segmentation node (modality
-- SEGNODE in orthanc.json). The node applies its own, finer rules (sagittal, weighting); results come back into the
-- same study by C-STORE. Results themselves (SEG, OT) are never routed back.
function OnStableSeries(seriesId, tags, metadata)
  local modality = tags['Modality'] or ''
  local body = string.upper(tags['BodyPartExamined'] or '')
  if modality == 'MR' and (body == 'LSPINE' or body == 'SPINE' or body == 'L-SPINE') then
    print('Routing series ' .. seriesId .. ' to SEGNODE')
    SendToModality(seriesId, 'SEGNODE')
  end
end
