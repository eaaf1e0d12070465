# `zhizeng optimize --problem X` without --out must exit 2 (usage) and say what is missing.
execute_process(COMMAND ${ZZ} optimize --problem nowhere RESULT_VARIABLE rc ERROR_VARIABLE msg)
if(NOT rc EQUAL 2 OR NOT msg MATCHES "--out FILE")
  message(FATAL_ERROR "expected exit 2 naming --out FILE, got ${rc}: ${msg}")
endif()
